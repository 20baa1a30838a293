package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/forcesync/forcesync/emulator/soql"
)

// SOSL: GET /search?q=FIND {term} [IN scope FIELDS] [RETURNING Obj(fields
// [WHERE ...] [ORDER BY ...] [LIMIT n]), ...] [LIMIT n], and
// parameterizedSearch (GET with parameters, POST with JSON), the subset
// clients use to look records up by a word, an email or a phone number.
//
// The search index is a scan: a record matches when every term (or, with
// OR, any term) occurs in one of the fields of the scope, ignoring case;
// * and ? are wildcards; "quoted phrases" match as a whole. Salesforce's
// index tokenises and stems, so it finds a little more than this does.
// The answer is {"searchRecords":[...]} (API 37.0 and later), each record
// with attributes and the fields RETURNING asked for (Id by default).

const soslMaxRecords = 2000

// soslTarget is one RETURNING entry compiled to a SOQL plan.
type soslTarget struct {
	obj  *sobject
	plan *soql.Plan
}

// soslSearch is a parsed search.
type soslSearch struct {
	terms   []*regexp.Regexp
	anyTerm bool   // OR between terms
	scope   string // ALL, NAME, EMAIL, PHONE
	targets []soslTarget
	limit   int
}

// soslErr is a search error: 400 with Salesforce's code.
type soslErr struct{ code, msg string }

func malformedSearch(format string, args ...any) *soslErr {
	return &soslErr{"MALFORMED_SEARCH", fmt.Sprintf(format, args...)}
}

var (
	soslFindRE      = regexp.MustCompile(`(?is)^\s*FIND\s*\{((?:\\.|[^\\}])*)\}(.*)$`)
	soslInRE        = regexp.MustCompile(`(?is)^\s*IN\s+(ALL|NAME|EMAIL|PHONE)\s+FIELDS\b(.*)$`)
	soslReturningRE = regexp.MustCompile(`(?is)^\s*RETURNING\s+(.*)$`)
	soslLimitRE     = regexp.MustCompile(`(?is)^\s*LIMIT\s+(\d+)\s*$`)
	soslClauseRE    = regexp.MustCompile(`(?i)\b(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b`)
)

// parseSOSLLocked reads a SOSL statement. e.mu is held.
func (e *Emulator) parseSOSLLocked(text string) (*soslSearch, *soslErr) {
	m := soslFindRE.FindStringSubmatch(text)
	if m == nil {
		return nil, malformedSearch("No search term found. The search term must be enclosed in braces: FIND {term}")
	}
	s := &soslSearch{scope: "ALL", limit: soslMaxRecords}
	if err := s.setTerms(unescapeSOSL(m[1])); err != nil {
		return nil, err
	}
	rest := m[2]
	if im := soslInRE.FindStringSubmatch(rest); im != nil {
		s.scope, rest = strings.ToUpper(im[1]), im[2]
	}
	var returning string
	if rm := soslReturningRE.FindStringSubmatch(rest); rm != nil {
		returning, rest = rm[1], ""
		// A trailing overall LIMIT follows the last closing parenthesis
		// (or the last object name).
		if i := lastTopLevelLimit(returning); i >= 0 {
			returning, rest = returning[:i], returning[i:]
		}
	}
	if strings.TrimSpace(rest) != "" {
		lm := soslLimitRE.FindStringSubmatch(rest)
		if lm == nil {
			return nil, malformedSearch("unexpected token: '%s'", strings.Fields(rest)[0])
		}
		n, _ := strconv.Atoi(lm[1])
		s.limit = min(max(n, 1), soslMaxRecords)
	}
	if returning == "" {
		for _, obj := range e.org.objects {
			if obj.Queryable && obj.Name != "Organization" && obj.Name != "Profile" {
				t, err := e.soslTargetLocked(obj.Name, "Id", "")
				if err != nil {
					return nil, err
				}
				s.targets = append(s.targets, t)
			}
		}
		return s, nil
	}
	for _, spec := range splitTopLevel(returning) {
		spec = strings.TrimSpace(spec)
		name, inner := spec, ""
		if i := strings.IndexByte(spec, '('); i >= 0 {
			if !strings.HasSuffix(spec, ")") {
				return nil, malformedSearch("unbalanced parentheses in RETURNING %s", spec)
			}
			name, inner = strings.TrimSpace(spec[:i]), spec[i+1:len(spec)-1]
		}
		fields, clauses := inner, ""
		if loc := soslClauseRE.FindStringIndex(inner); loc != nil {
			fields, clauses = inner[:loc[0]], inner[loc[0]:]
		}
		if strings.TrimSpace(fields) == "" {
			fields = "Id"
		}
		t, err := e.soslTargetLocked(name, fields, clauses)
		if err != nil {
			return nil, err
		}
		s.targets = append(s.targets, t)
	}
	return s, nil
}

// soslTargetLocked compiles one RETURNING entry as SOQL.
func (e *Emulator) soslTargetLocked(name, fields, clauses string) (soslTarget, *soslErr) {
	plan, qerr := e.compileQueryLocked("SELECT " + fields + " FROM " + name + " " + clauses)
	if qerr != nil {
		return soslTarget{}, &soslErr{qerr.Code, qerr.Message}
	}
	if plan.Aggregate || plan.CountOnly || len(plan.Subqueries) > 0 {
		return soslTarget{}, malformedSearch("RETURNING %s: aggregate functions and subqueries are not allowed", name)
	}
	return soslTarget{obj: plan.Object.(queryObject).o, plan: plan}, nil
}

// setTerms compiles the search string: words and "phrases", joined by AND
// (the default) or OR.
func (s *soslSearch) setTerms(q string) *soslErr {
	var words []string
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				return malformedSearch("unterminated phrase in the search term")
			}
			words = append(words, q[1:end+1])
			q = q[end+2:]
			continue
		}
		i := strings.IndexAny(q, " \t\n")
		if i < 0 {
			i = len(q)
		}
		words = append(words, q[:i])
		q = q[i:]
	}
	for _, w := range words {
		switch strings.ToUpper(w) {
		case "OR":
			s.anyTerm = true
			continue
		case "AND":
			continue
		}
		if len(strings.Trim(w, "*?")) < 2 {
			return malformedSearch("search term must be longer than one character: %s", w)
		}
		var re strings.Builder
		re.WriteString("(?i)")
		for _, r := range w {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		s.terms = append(s.terms, regexp.MustCompile(re.String()))
	}
	if len(s.terms) == 0 {
		return malformedSearch("No search term found")
	}
	return nil
}

// unescapeSOSL removes the backslashes of escaped reserved characters.
func unescapeSOSL(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// splitTopLevel splits at commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var out []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// lastTopLevelLimit finds a LIMIT outside parentheses and quotes; -1 if none.
func lastTopLevelLimit(s string) int {
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (c == 'L' || c == 'l') && i > 0 && (s[i-1] == ' ' || s[i-1] == ')') &&
			len(s) >= i+5 && strings.EqualFold(s[i:i+5], "LIMIT"):
			return i
		}
	}
	return -1
}

// inScope reports whether f is searched in the scope.
func inScope(f *field, scope string) bool {
	switch scope {
	case "NAME":
		return f.NameField || f.Name == "FirstName" || f.Name == "LastName" || f.Name == "Company"
	case "EMAIL":
		return f.Type == "email"
	case "PHONE":
		return f.Type == "phone"
	}
	switch f.Type {
	case "string", "email", "phone", "textarea", "url", "picklist", "multipicklist", "combobox":
		return true
	}
	return false
}

// matchesLocked reports whether r holds the search terms in its scope.
func (s *soslSearch) matches(r *record) bool {
	found := make([]bool, len(s.terms))
	for _, f := range r.obj.Fields {
		if !inScope(f, s.scope) {
			continue
		}
		v, _ := r.get(f).(string)
		if v == "" {
			continue
		}
		for i, t := range s.terms {
			if !found[i] && t.MatchString(v) {
				found[i] = true
			}
		}
	}
	all, anyFound := true, false
	for _, ok := range found {
		all = all && ok
		anyFound = anyFound || ok
	}
	if s.anyTerm {
		return anyFound
	}
	return all
}

// runLocked returns the rendered matches, up to the overall limit.
func (e *Emulator) runSOSLLocked(c *call, s *soslSearch) []any {
	out := []any{}
	for _, t := range s.targets {
		var rows []queryRow
		e.eachRecordLocked(t.obj, false, func(r *record) bool {
			if s.matches(r) {
				rows = append(rows, queryRow{e: e, r: r})
			}
			return true
		})
		seq := func(yield func(soql.Row) bool) {
			for i := range rows {
				if !yield(&rows[i]) {
					return
				}
			}
		}
		for _, r := range t.plan.Select(seq) {
			if len(out) >= s.limit {
				return out
			}
			out = append(out, e.renderQueryRecordLocked(c, t.plan, r.(*queryRow).r, nil))
		}
	}
	return out
}

func (e *Emulator) writeSOSLResult(c *call, recs []any) {
	if versionNumber(c.version) < 37 {
		c.writeJSON(http.StatusOK, recs) // older versions answer a bare array
		return
	}
	c.writeJSON(http.StatusOK, map[string]any{"searchRecords": recs})
}

// serveSearch answers GET /search?q=FIND {...}.
func (e *Emulator) serveSearch(c *call) {
	q := c.r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		c.writeError(http.StatusBadRequest, "MALFORMED_SEARCH", "No search term found. The search term must be enclosed in braces: FIND {term}", nil)
		return
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, serr := e.parseSOSLLocked(q)
	if serr != nil {
		c.writeError(http.StatusBadRequest, serr.code, serr.msg, nil)
		return
	}
	e.writeSOSLResult(c, e.runSOSLLocked(c, s))
}

// serveParameterizedSearch answers GET and POST /parameterizedSearch: the
// same search without SOSL syntax. GET: q, sobject (repeatable),
// {Object}.fields, {Object}.where, {Object}.limit, fields, in, overallLimit.
// POST: {"q","fields","sobjects":[{"name","fields","where","limit"}],"in","overallLimit"}.
func (e *Emulator) serveParameterizedSearch(c *call) {
	type sobjSpec struct {
		Name   string   `json:"name"`
		Fields []string `json:"fields"`
		Where  string   `json:"where"`
		Limit  int      `json:"limit"`
	}
	var req struct {
		Q            string     `json:"q"`
		Fields       []string   `json:"fields"`
		Sobjects     []sobjSpec `json:"sobjects"`
		In           string     `json:"in"`
		OverallLimit int        `json:"overallLimit"`
	}
	if c.r.Method == http.MethodPost {
		if !c.readJSON(&req) {
			return
		}
	} else {
		p := c.r.URL.Query()
		req.Q, req.In = p.Get("q"), p.Get("in")
		if f := p.Get("fields"); f != "" {
			req.Fields = strings.Split(f, ",")
		}
		if n, err := strconv.Atoi(p.Get("overallLimit")); err == nil {
			req.OverallLimit = n
		}
		for _, name := range p["sobject"] {
			sp := sobjSpec{Name: name, Where: p.Get(name + ".where")}
			if f := p.Get(name + ".fields"); f != "" {
				sp.Fields = strings.Split(f, ",")
			}
			if n, err := strconv.Atoi(p.Get(name + ".limit")); err == nil {
				sp.Limit = n
			}
			req.Sobjects = append(req.Sobjects, sp)
		}
	}
	if strings.TrimSpace(req.Q) == "" {
		c.writeError(http.StatusBadRequest, "MISSING_ARGUMENT", "Missing the required parameter q", nil)
		return
	}
	var b strings.Builder
	b.WriteString("FIND {" + strings.NewReplacer("{", `\{`, "}", `\}`).Replace(req.Q) + "}")
	if req.In != "" {
		b.WriteString(" IN " + strings.ToUpper(strings.TrimSuffix(strings.ToUpper(req.In), " FIELDS")) + " FIELDS")
	}
	if len(req.Sobjects) > 0 {
		b.WriteString(" RETURNING ")
		for i, sp := range req.Sobjects {
			if i > 0 {
				b.WriteString(", ")
			}
			fields := sp.Fields
			if len(fields) == 0 {
				fields = req.Fields
			}
			if len(fields) == 0 {
				fields = []string{"Id"}
			}
			b.WriteString(sp.Name + "(" + strings.Join(fields, ", "))
			if sp.Where != "" {
				b.WriteString(" WHERE " + sp.Where)
			}
			if sp.Limit > 0 {
				b.WriteString(" LIMIT " + strconv.Itoa(sp.Limit))
			}
			b.WriteString(")")
		}
	}
	if req.OverallLimit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(req.OverallLimit))
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, serr := e.parseSOSLLocked(b.String())
	if serr != nil {
		c.writeError(http.StatusBadRequest, serr.code, serr.msg, nil)
		return
	}
	e.writeSOSLResult(c, e.runSOSLLocked(c, s))
}

// soslRoutes registers the search resources.
func (e *Emulator) soslRoutes() {
	e.handle("/services/data/{version}/search", KindQuery, true, map[string]handlerFunc{"GET": e.serveSearch})
	e.handle("/services/data/{version}/parameterizedSearch", KindQuery, true,
		map[string]handlerFunc{"GET": e.serveParameterizedSearch, "POST": e.serveParameterizedSearch})
}
