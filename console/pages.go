package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/ingest"
)

// mappingRow is one mapping on the overview and mappings pages.
type mappingRow struct {
	M forcesync.Mapping
	// State is "running"; "paused" (the budget governor, a schema change);
	// "failing" (its connection's login fails or the org does not answer,
	// or every record of its latest runs was held); or "retrying" (every
	// record of its latest runs failed and waits for a retry).
	State string
	Why   string
	// Since is when the trouble began (zero when running or not known);
	// LastError is the mapping's newest failure, when failing or retrying.
	Since     time.Time
	LastError *forcesync.RecordError
	Counts    map[forcesync.State]int
	Held      int
	Backlog   int
	LastRun   *forcesync.Run
}

func (c *Console) mappingRows(ctx context.Context) ([]mappingRow, error) {
	runs, err := c.cfg.Store.Runs(ctx, 500)
	if err != nil {
		return nil, err
	}
	paused := ""
	if c.cfg.Engine != nil {
		paused = c.cfg.Engine.Paused()
	}
	schemaPaused := map[string]forcesync.SchemaPause{}
	if sp, ok := forcesync.StoreAs[forcesync.SchemaPauses](c.cfg.Store); ok {
		ps, err := sp.SchemaPauses(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			schemaPaused[p.Mapping] = p
		}
	}
	unhealthy := map[string]ConnectionHealth{}
	if c.cfg.Health != nil {
		for _, h := range c.cfg.Health() {
			if !h.OK {
				unhealthy[h.Connection] = h
			}
		}
	}
	var out []mappingRow
	for _, m := range c.cfg.Mappings {
		counts, err := c.cfg.Store.Counts(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		backlog, err := c.cfg.Store.Backlog(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		row := mappingRow{M: m, State: "running", Counts: counts, Held: counts[forcesync.StateHeld], Backlog: backlog}
		for i := range runs {
			if runs[i].Mapping == m.Name {
				row.LastRun = &runs[i]
				break
			}
		}
		failing, since := forcesync.FailingRuns(runs, m.Name)
		h, down := unhealthy[c.connectionOf(m)]
		sp, schema := schemaPaused[m.Name]
		paused := paused
		if cp, ok := c.cfg.Engine.(ConnectionPauses); ok {
			paused = cp.PausedOf(c.connectionOf(m))
		}
		switch {
		case paused != "":
			row.State, row.Why = "paused", paused
		case schema:
			row.State, row.Why, row.Since = "paused", "the Salesforce schema changed: "+sp.Reason, sp.Since
		case down:
			row.State, row.Why, row.Since = "failing", h.Reason, h.Since
		case failing > 0:
			row.State, row.Since = "failing", since
			row.Why = fmt.Sprintf("every record of the last %d runs failed", failing)
			if failing == 1 {
				row.Why = "every record of the last run failed"
			}
		}
		if row.State == "failing" {
			// The newest failure says what goes wrong, and whether the
			// records wait for a retry (forcesync tries again by itself)
			// or are held (someone must act).
			fs, err := c.cfg.Store.List(ctx, forcesync.StatusFilter{Mapping: m.Name,
				States: []forcesync.State{forcesync.StateRetrying, forcesync.StateHeld}, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(fs) > 0 {
				row.LastError = fs[0].Error
				if fs[0].State == forcesync.StateRetrying {
					row.State = "retrying"
				}
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// connectionOf names the connection m pushes through: its own, or the
// only one configured.
func (c *Console) connectionOf(m forcesync.Mapping) string {
	if m.Connection == "" && len(c.cfg.Connections) == 1 {
		return c.cfg.Connections[0].Name
	}
	return m.Connection
}

// overview is the home page's data.
type overview struct {
	Mappings []mappingRow
	Usage    []usageRow
	Runs     []forcesync.Run
	Records  chart
}

type usageRow struct {
	Connection string
	Used, Max  int
	Budget     int // Max times the share forcesync may spend
	Share      float64
	Known      bool
}

func (c *Console) usageRows(ctx context.Context) ([]usageRow, error) {
	var out []usageRow
	for _, conn := range c.cfg.Connections {
		share := c.cfg.APIShare
		if conn.APIShare > 0 {
			share = conn.APIShare
		}
		u, err := c.cfg.Store.APIUsage(ctx, conn.Name)
		if err != nil && forcesync.ErrorCode(err) != forcesync.ENotFound {
			return nil, err
		}
		row := usageRow{Connection: conn.Name, Share: share}
		if u != nil {
			row.Used, row.Max, row.Known = u.Used, u.Max, u.Max > 0
			row.Budget = int(float64(u.Max) * share)
		}
		out = append(out, row)
	}
	return out, nil
}

func (c *Console) handleOverview(w http.ResponseWriter, r *http.Request) {
	rows, err := c.mappingRows(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	usage, err := c.usageRows(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	runs, err := c.cfg.Store.Runs(r.Context(), 2000)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	recent := runs[:min(len(runs), 10)]
	c.render(w, r, http.StatusOK, "overview.html", &pageData{Title: "Overview", Nav: "overview",
		Page: overview{Mappings: rows, Usage: usage, Runs: recent, Records: recordsChart(runs, c.cfg.Now())}})
}

func (c *Console) handleMappings(w http.ResponseWriter, r *http.Request) {
	rows, err := c.mappingRows(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "mappings.html", &pageData{Title: "Mappings", Nav: "mappings",
		Page: struct {
			Rows   []mappingRow
			Editor bool
		}{rows, c.editorAvailable()}})
}

// recordsPage is the records search.
type recordsPage struct {
	Query    string
	Searched bool
	How      string // what the query was taken for
	Results  []forcesync.RecordStatus
	// Unreadable are the records found whose stored fields cannot be
	// read back, shown as such (with or without statuses in Results).
	Unreadable []unreadableHit
	Mappings   []string
}

// unreadableHit is a record found whose stored fields cannot be read
// back (forcesync.CodeUnreadableRecord): Message names the field.
type unreadableHit struct {
	Source, Key, Message string
}

// sfIDRe matches a 15- or 18-character Salesforce Id.
var sfIDRe = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)

// idScan bounds the statuses read per mapping when looking a record up by
// its Salesforce Id (the store has no index by Salesforce Id yet).
const idScan = 10000

func (c *Console) handleRecords(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p := recordsPage{Query: q, Mappings: c.mappingNames()}
	ctx := r.Context()
	var err error
	if q == "" {
		p.Results, err = c.cfg.Store.List(ctx, forcesync.StatusFilter{Limit: 50})
	} else {
		p.Searched = true
		p.Results, p.Unreadable, p.How, err = c.search(ctx, q)
	}
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	d := &pageData{Title: "Records", Nav: "records", Page: p}
	if r.URL.Query().Get("done") == "retry" {
		d.Message = "Queued again; the states below change once the engine has pushed the records."
	}
	c.render(w, r, http.StatusOK, "records.html", d)
}

// search finds records by key, by email (the source field each mapping
// sends to Email) or by Salesforce Id. The records found by key or email
// whose stored fields cannot be read back come apart, to be shown as such.
func (c *Console) search(ctx context.Context, q string) ([]forcesync.RecordStatus, []unreadableHit, string, error) {
	var out []forcesync.RecordStatus
	var bad []unreadableHit
	unreadable := func(src, key string, re *forcesync.RecordError) {
		if !slices.ContainsFunc(bad, func(h unreadableHit) bool { return h.Source == src && h.Key == key }) {
			bad = append(bad, unreadableHit{Source: src, Key: key, Message: re.Message})
		}
	}
	seen := map[string]bool{}
	add := func(sts []forcesync.RecordStatus) {
		for _, st := range sts {
			id := st.Mapping + "\x00" + st.Key
			if !seen[id] {
				seen[id] = true
				out = append(out, st)
			}
		}
	}
	var hows []string
	for _, src := range c.cfg.Sources {
		sts, err := c.cfg.Store.Statuses(ctx, src.Name, q)
		if err != nil {
			return nil, nil, "", err
		}
		add(sts)
		_, err = c.cfg.Store.SourceRecord(ctx, src.Name, q)
		if re, ok := errors.AsType[*forcesync.RecordError](err); ok && re.Code == forcesync.CodeUnreadableRecord {
			unreadable(src.Name, q, re)
		}
	}
	hows = append(hows, "key")
	if strings.Contains(q, "@") {
		hows = append(hows, "email")
		for src, field := range c.emailFields() {
			recs, err := c.cfg.Store.SourceRecords(ctx, forcesync.SourceQuery{Source: src, Field: field, Value: q, Limit: 100})
			if err != nil {
				return nil, nil, "", err
			}
			for _, rec := range recs {
				if rec.Unreadable != nil {
					unreadable(src, rec.Key, rec.Unreadable)
				}
				sts, err := c.cfg.Store.Statuses(ctx, src, rec.Key)
				if err != nil {
					return nil, nil, "", err
				}
				add(sts)
			}
		}
	}
	if sfIDRe.MatchString(q) {
		hows = append(hows, "Salesforce Id")
		for _, m := range c.cfg.Mappings {
			sts, err := c.cfg.Store.List(ctx, forcesync.StatusFilter{Mapping: m.Name, Limit: idScan})
			if err != nil {
				return nil, nil, "", err
			}
			for _, st := range sts {
				if st.SalesforceID != "" && (st.SalesforceID == q || (len(q) == 15 && strings.HasPrefix(st.SalesforceID, q))) {
					add([]forcesync.RecordStatus{st})
				}
			}
		}
	}
	return out, bad, strings.Join(hows, ", "), nil
}

// emailFields maps each source to the field its mappings send to Email,
// so "find by email" needs no setting.
func (c *Console) emailFields() map[string]string {
	out := map[string]string{}
	for _, m := range c.cfg.Mappings {
		for _, row := range m.Fields {
			if strings.EqualFold(row.Target, "Email") && row.SourceField != "" && out[m.Source] == "" &&
				isFieldName(row.SourceField) {
				out[m.Source] = row.SourceField
			}
		}
	}
	return out
}

var fieldNameRe = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func isFieldName(s string) bool { return fieldNameRe.MatchString(s) }

func (c *Console) mappingNames() []string {
	var out []string
	for _, m := range c.cfg.Mappings {
		out = append(out, m.Name)
	}
	return out
}

func (c *Console) mappingByName(name string) *forcesync.Mapping {
	for i := range c.cfg.Mappings {
		if c.cfg.Mappings[i].Name == name {
			return &c.cfg.Mappings[i]
		}
	}
	return nil
}

func (c *Console) knownSource(name string) bool {
	for _, s := range c.cfg.Sources {
		if s.Name == name {
			return true
		}
	}
	return false
}

// recordPage is one record with its state under each mapping.
type recordPage struct {
	Source    string
	Key       string
	Record    *forcesync.SourceRecord
	Fields    string // the record's fields as indented JSON
	Mappings  []recordMapping
	FieldsErr string
	// Unreadable is set when the stored fields cannot be read back
	// (forcesync.CodeUnreadableRecord); Fields then shows them as stored.
	Unreadable *forcesync.RecordError
	// Conflicts are the fields both sides changed, as pulls found them.
	Conflicts []forcesync.Conflict
}

type recordMapping struct {
	Status  forcesync.RecordStatus
	Binding *forcesync.Binding
	Object  string
	Payload string // the payload the mapping makes of the current fields
	// Warnings say what the payload changed to fit (a value cut short).
	Warnings []string
	Problem  string // why there is no payload
	Advice   string
	// History is the record's newest attempts under the mapping.
	History []forcesync.Attempt
	// HistoryKept says the store keeps histories at all.
	HistoryKept bool
}

func (c *Console) handleRecord(w http.ResponseWriter, r *http.Request) {
	source, key := r.PathValue("source"), r.PathValue("key")
	p, err := c.recordPage(r.Context(), source, key)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	d := &pageData{Title: "Record " + key, Nav: "records", Page: p}
	switch r.URL.Query().Get("done") {
	case "retry":
		d.Message = "Queued again; the status below changes once the engine has pushed it."
	case "fields":
		d.Message = "Saved the new fields and queued the record; the status below changes once the engine has pushed it."
	}
	c.render(w, r, http.StatusOK, "record.html", d)
}

func (c *Console) recordPage(ctx context.Context, source, key string) (*recordPage, error) {
	if !c.knownSource(source) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source)
	}
	rec, err := c.cfg.Store.SourceRecord(ctx, source, key)
	unreadable, ok := errors.AsType[*forcesync.RecordError](err)
	if ok && unreadable.Code == forcesync.CodeUnreadableRecord && rec != nil {
		// Old data the store cannot read back: the page says so and its
		// editor holds the fields as stored, to be corrected and saved.
		err = nil
	} else {
		unreadable = nil
	}
	if err != nil {
		return nil, err
	}
	sts, err := c.cfg.Store.Statuses(ctx, source, key)
	if err != nil {
		return nil, err
	}
	fields, _ := json.MarshalIndent(rec.Fields, "", "  ")
	p := &recordPage{Source: source, Key: key, Record: rec, Fields: string(fields), Unreadable: unreadable}
	for _, st := range sts {
		rm := recordMapping{Status: st}
		if m := c.mappingByName(st.Mapping); m != nil {
			rm.Object = m.Object
		}
		if rm.Binding, err = c.cfg.Store.Binding(ctx, st.Mapping, key); err != nil {
			return nil, err
		}
		if st.Error != nil {
			rm.Advice = adviceFor(st.Error.Code)
		}
		if rec.Deleted {
			// Nothing is sent of a deleted record's fields: previewing its
			// empty fields as a create would show a record nobody sends.
			rm.Problem = "The application deleted this record; no payload is sent (the mapping's delete operation applies)."
		} else if unreadable != nil {
			rm.Problem = "No payload: the stored fields cannot be read (see above)."
		} else {
			rm.Payload, rm.Warnings, rm.Problem = c.preview(st.Mapping, key, rec.Fields, rm.Binding == nil || rm.Binding.SalesforceID == "")
		}
		if hs, ok := forcesync.StoreAs[forcesync.HistoryStore](c.cfg.Store); ok {
			rm.HistoryKept = true
			if rm.History, err = hs.RecordHistory(ctx, st.Mapping, key, 0); err != nil {
				return nil, err
			}
		}
		p.Mappings = append(p.Mappings, rm)
	}
	if c.cfg.Pull != nil {
		if p.Conflicts, err = c.cfg.Pull.Conflicts(ctx, source, key); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// preview compiles the payload a mapping makes of fields, as the engine
// would send it now, with what it changed to make the record fit.
func (c *Console) preview(mappingName, key string, fields map[string]any, create bool) (payload string, warnings []string, problem string) {
	comp := c.cfg.Compiled[mappingName]
	if comp == nil {
		return "", nil, "no compiled mapping to preview with"
	}
	ok, err := comp.Filter(fields)
	if err != nil {
		return "", nil, "filter: " + err.Error()
	}
	if !ok {
		return "", nil, "the mapping's filter skips this record"
	}
	pl, err := comp.PayloadFor(key, fields, create)
	if err != nil {
		return "", nil, err.Error()
	}
	b, err := json.MarshalIndent(pl.Fields, "", "  ")
	if err != nil {
		return "", nil, err.Error()
	}
	return string(b), pl.Warnings, ""
}

// handleEditFields stores new fields for a record (the admin fixing its
// data) as a change, as a door would, and queues it for every mapping.
func (c *Console) handleEditFields(w http.ResponseWriter, r *http.Request) {
	source, key := r.PathValue("source"), r.PathValue("key")
	if !c.knownSource(source) {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	// refuse shows the record again with what was typed and why it was
	// not taken.
	refuse := func(why string) {
		p, err := c.recordPage(r.Context(), source, key)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		p.Fields, p.FieldsErr = r.PostForm.Get("fields"), why
		c.render(w, r, http.StatusBadRequest, "record.html", &pageData{Title: "Record " + key, Nav: "records", Page: p})
	}
	fields, problem := decodeFields(r.PostForm.Get("fields"))
	if problem != "" {
		refuse("Fields " + problem + ".")
		return
	}
	// Then the rules every door shares (ingest.Check): a number past
	// float64's range, which the stores could not read back, is refused
	// by its path.
	ch, bad := ingest.Check(forcesync.Change{Source: source, Key: key, Op: forcesync.OpUpsert, Fields: fields, Received: c.cfg.Now()})
	if bad != nil {
		what := "Fields"
		if bad.Field != "fields" {
			what = "The record's " + bad.Field // its key, from the URL
		}
		refuse(what + " " + bad.Error + ".")
		return
	}
	var mappings []string
	if c.cfg.Engine != nil {
		mappings = c.cfg.Engine.MappingsFor(source)
	}
	if _, err := c.cfg.Store.Accept(r.Context(), mappings, []forcesync.Change{ch}); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: fields edited", "user", user(r), "source", source, "key", key)
	if c.cfg.Engine != nil {
		c.cfg.Engine.Notify()
	}
	http.Redirect(w, r, "/records/"+pathEscape(source)+"/"+pathEscape(key)+"?done=fields", http.StatusSeeOther)
}

// decodeFields reads the record editor's JSON: one object and nothing
// after it (what follows the object would otherwise be dropped unseen).
// problem says what is wrong, to follow "Fields ".
func decodeFields(text string) (fields map[string]any, problem string) {
	const want = "must be a JSON object such as {\"email\": \"ada@example.com\"}"
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, want + ", but the box is empty"
		}
		return nil, want + ": " + err.Error()
	}
	fields, ok := v.(map[string]any)
	if !ok {
		return nil, want + fmt.Sprintf(", not %s", jsonKind(v))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Sprintf("must be one JSON object: there is more text after its closing } (at character %d)", dec.InputOffset())
	}
	return fields, ""
}

// jsonKind names the kind of a decoded JSON value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}

// handleRetry queues records again: each "item" is mapping/key (a
// checkbox of a list or a record's button); "group" is mapping/code and
// retries every held record of that failure group.
func (c *Console) handleRetry(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	byMapping := map[string][]string{}
	for _, it := range r.PostForm["item"] {
		m, k, ok := strings.Cut(it, "/")
		if !ok || c.mappingByName(m) == nil {
			c.serverError(w, r, &forcesync.Error{Code: forcesync.EInvalid, Field: "item", Message: "unknown mapping in " + it})
			return
		}
		byMapping[m] = append(byMapping[m], k)
	}
	for _, g := range r.PostForm["group"] {
		m, code, ok := strings.Cut(g, "/")
		if !ok || c.mappingByName(m) == nil {
			c.serverError(w, r, &forcesync.Error{Code: forcesync.EInvalid, Field: "group", Message: "unknown mapping in " + g})
			return
		}
		groups, err := c.failureGroups(r.Context())
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		for _, fg := range groups {
			if fg.Mapping == m && fg.Code == code {
				for _, st := range fg.Records {
					byMapping[m] = append(byMapping[m], st.Key)
				}
			}
		}
	}
	if len(byMapping) == 0 {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "choose at least one record to retry"))
		return
	}
	n := 0
	for _, m := range slices.Sorted(mapsKeys(byMapping)) {
		got, err := c.cfg.Store.Requeue(r.Context(), m, slices.Compact(slices.Sorted(slices.Values(byMapping[m]))))
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		n += got
	}
	c.cfg.Logger.Info("console: retry", "user", user(r), "records", n)
	if c.cfg.Engine != nil {
		c.cfg.Engine.Notify()
	}
	back := safeNext(r.PostForm.Get("back"))
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done=retry", http.StatusSeeOther)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// failureGroup is the held and retrying records of one mapping sharing
// one Salesforce error code.
type failureGroup struct {
	Mapping string
	Code    string
	Count   int
	Held    int
	Advice  string
	Records []forcesync.RecordStatus
}

// failureScan bounds the problem statuses read for the failures page.
const failureScan = 5000

func (c *Console) failureGroups(ctx context.Context) ([]failureGroup, error) {
	idx := map[string]int{}
	var out []failureGroup
	for _, m := range c.cfg.Mappings {
		sts, err := c.cfg.Store.List(ctx, forcesync.StatusFilter{Mapping: m.Name,
			States: []forcesync.State{forcesync.StateHeld, forcesync.StateRetrying}, Limit: failureScan})
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			code := "UNKNOWN"
			if st.Error != nil && st.Error.Code != "" {
				code = st.Error.Code
			}
			id := m.Name + "/" + code
			i, ok := idx[id]
			if !ok {
				i = len(out)
				idx[id] = i
				out = append(out, failureGroup{Mapping: m.Name, Code: code, Advice: adviceFor(code)})
			}
			out[i].Count++
			if st.State == forcesync.StateHeld {
				out[i].Held++
			}
			out[i].Records = append(out[i].Records, st)
		}
	}
	slices.SortStableFunc(out, func(a, b failureGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Mapping, b.Mapping), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}

func (c *Console) handleFailures(w http.ResponseWriter, r *http.Request) {
	groups, err := c.failureGroups(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	d := &pageData{Title: "Failures", Nav: "failures", Page: groups}
	if r.URL.Query().Get("done") == "retry" {
		d.Message = "Queued again; records leave this page once the engine has pushed them."
	}
	c.render(w, r, http.StatusOK, "failures.html", d)
}

// runsPage is the runs and API usage page.
type runsPage struct {
	Runs    []forcesync.Run
	Records chart
	API     []apiChart
	Usage   []usageRow
	Paused  string
}

func (c *Console) handleRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := c.cfg.Store.Runs(r.Context(), 5000)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	usage, err := c.usageRows(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	now := c.cfg.Now()
	p := runsPage{Runs: runs[:min(len(runs), 100)], Records: recordsChart(runs, now), Usage: usage}
	for _, u := range usage {
		p.API = append(p.API, apiCallsChart(u, c.runsOf(u.Connection, runs), now))
	}
	c.render(w, r, http.StatusOK, "runs.html", &pageData{Title: "Runs and API usage", Nav: "runs", Page: p})
}

// runsOf keeps the runs of mappings using connection conn.
func (c *Console) runsOf(conn string, runs []forcesync.Run) []forcesync.Run {
	uses := map[string]bool{}
	for _, m := range c.cfg.Mappings {
		name := m.Connection
		if name == "" && len(c.cfg.Connections) > 0 {
			name = c.cfg.Connections[0].Name
		}
		if name == conn {
			uses[m.Name] = true
		}
	}
	var out []forcesync.Run
	for _, r := range runs {
		if uses[r.Mapping] {
			out = append(out, r)
		}
	}
	return out
}
