package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// /composite (salesforce-api.md §5.4): up to 25 subrequests run in order in
// one API call. Each subrequest is served by the real handler of its URL
// (sObject resources, query, collections), dispatched in process through the
// emulator's mux; a later subrequest may use values of an earlier one's
// response with @{referenceId.path}, e.g. @{refAcct.id} or
// @{refQuery.records[0].Id}. The top-level answer is always 200.
//
// allOrNone makes the whole call one transaction. Handlers take e.mu
// themselves, so the transaction stays open across them; to keep other
// callers' writes out of it, every handler runs under e.gate's read lock
// (serveRoute) and an all-or-none composite call holds its write lock.

const (
	maxCompositeSubrequests = 25
	// maxCompositeQueries caps the query/queryAll and collections subrequests.
	maxCompositeQueries = 5
)

// Texts of the composite errors.
const (
	msgProcessingHalted = "The transaction was rolled back since another operation in the same transaction failed."
)

// subrequestKey marks the context of an in-process subrequest; its value is
// the composite caller's session.
type subrequestKey struct{}

// subrequestSession returns the session of the composite call that issued r
// when r is one of its subrequests. serveRoute then skips counting, faults
// and authentication: they were done once for the composite call.
func subrequestSession(r *http.Request) (*Session, bool) {
	s, ok := r.Context().Value(subrequestKey{}).(*Session)
	return s, ok
}

// isSubrequest reports whether r is a composite subrequest.
func isSubrequest(r *http.Request) bool {
	_, ok := subrequestSession(r)
	return ok
}

type compositeSubrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

type compositeBody struct {
	AllOrNone          bool                  `json:"allOrNone"`
	CollateSubrequests *bool                 `json:"collateSubrequests"`
	CompositeRequest   []compositeSubrequest `json:"compositeRequest"`
}

type compositeSubresponse struct {
	Body           json.RawMessage   `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// referenceIDRE is the shape Salesforce allows for a referenceId.
var referenceIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// referenceRE finds @{referenceId.path} (or @{referenceId[0].path} for a
// body that is an array) in a URL or a body string.
var referenceRE = regexp.MustCompile(`@\{([A-Za-z][A-Za-z0-9_]*)((?:\[[0-9]+\])?(?:\.[^}]+)?)\}`)

// composite serves POST /services/data/vNN.N/composite.
func (e *Emulator) composite(c *call) {
	var req compositeBody
	if !c.readJSON(&req) {
		return
	}
	if msg := checkComposite(req.CompositeRequest); msg != "" {
		c.writeError(http.StatusBadRequest, "INVALID_INPUT", msg, nil) // UNCONFIRMED: errorCode of malformed composite calls
		return
	}
	if req.AllOrNone {
		e.gate.Lock()
		defer e.gate.Unlock()
	} else {
		e.gate.RLock()
		defer e.gate.RUnlock()
	}
	out, _ := e.runCompositeGated(c, req.CompositeRequest, req.AllOrNone)
	c.writeJSON(http.StatusOK, map[string]any{"compositeResponse": out})
}

// runCompositeGated runs subs in order, each able to refer to the earlier
// ones, and reports whether all succeeded. With allOrNone the subrequests
// are one transaction: at the first failure it stops, undoes everything and
// answers PROCESSING_HALTED for every other subrequest. The caller holds
// e.gate: its write lock when allOrNone.
func (e *Emulator) runCompositeGated(c *call, subs []compositeSubrequest, allOrNone bool) ([]compositeSubresponse, bool) {
	var t *txn
	if allOrNone {
		e.mu.Lock()
		t = e.beginLocked()
		e.mu.Unlock()
	}
	out := make([]compositeSubresponse, len(subs))
	done := map[string]*subResult{}
	failedAt := -1
	allOK := true
	for i, sr := range subs {
		res := e.runSubrequest(c, sr, done)
		out[i] = res.resp
		done[sr.ReferenceID] = res
		allOK = allOK && res.ok
		if allOrNone && !res.ok {
			failedAt = i
			break
		}
	}
	if !allOrNone {
		return out, allOK
	}
	e.mu.Lock()
	if failedAt >= 0 {
		t.rollback()
	} else {
		t.commit()
	}
	e.mu.Unlock()
	if failedAt >= 0 {
		for i := range out {
			if i != failedAt {
				out[i] = haltedResponse(subs[i].ReferenceID, msgProcessingHalted)
			}
		}
	}
	return out, failedAt < 0
}

// checkComposite validates the subrequest list; "" when well formed.
func checkComposite(subs []compositeSubrequest) string {
	if len(subs) > maxCompositeSubrequests {
		return fmt.Sprintf("Composite requests cannot have more than %d subrequests.", maxCompositeSubrequests)
	}
	return checkSubrequests(subs, maxCompositeQueries)
}

// checkSubrequests validates the subrequests of a composite call or of one
// graph: references, methods, URLs, and at most maxHeavy query and
// collections subrequests (0: no cap). "" when well formed.
func checkSubrequests(subs []compositeSubrequest, maxHeavy int) string {
	if len(subs) == 0 {
		return "compositeRequest is required and must hold at least one subrequest."
	}
	seen := map[string]bool{}
	heavy := 0
	for _, sr := range subs {
		if !referenceIDRE.MatchString(sr.ReferenceID) {
			return fmt.Sprintf("Invalid referenceId '%s': it must start with a letter and hold only letters, digits and underscores.", sr.ReferenceID)
		}
		if seen[sr.ReferenceID] {
			return "Duplicate referenceId provided in the request: " + sr.ReferenceID
		}
		seen[sr.ReferenceID] = true
		switch strings.ToUpper(sr.Method) {
		case "GET", "POST", "PATCH", "PUT", "DELETE", "HEAD":
		default:
			return fmt.Sprintf("Invalid method '%s' for subrequest %s.", sr.Method, sr.ReferenceID)
		}
		p, _, _ := strings.Cut(sr.URL, "?")
		if !strings.HasPrefix(p, "/services/data/v") {
			return fmt.Sprintf("The url '%s' of subrequest %s must start with /services/data/vXX.X/.", sr.URL, sr.ReferenceID)
		}
		rest := p[len("/services/data/v"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
		switch {
		case rest == "/composite" || strings.HasPrefix(rest, "/composite/batch") ||
			strings.HasPrefix(rest, "/composite/tree") || strings.HasPrefix(rest, "/composite/graph"):
			return fmt.Sprintf("Subrequest %s: composite, batch, tree and graph requests cannot be nested in a composite request.", sr.ReferenceID)
		case strings.HasPrefix(rest, "/query") || strings.HasPrefix(rest, "/queryAll") ||
			strings.HasPrefix(rest, "/composite/sobjects"):
			heavy++
		}
	}
	if maxHeavy > 0 && heavy > maxHeavy {
		return fmt.Sprintf("A composite request can hold at most %d query and sObject Collections subrequests.", maxCompositeQueries)
	}
	return ""
}

// subResult is a finished subrequest: its response as sent, its parsed body
// for references, and whether it succeeded.
type subResult struct {
	resp compositeSubresponse
	body any
	ok   bool
}

// haltedResponse is the answer of a subrequest that did not run or was rolled back.
func haltedResponse(ref, msg string) compositeSubresponse {
	b, _ := json.Marshal([]APIError{{Message: msg, ErrorCode: "PROCESSING_HALTED"}})
	return compositeSubresponse{Body: b, HTTPHeaders: map[string]string{}, HTTPStatusCode: http.StatusBadRequest, ReferenceID: ref}
}

// runSubrequest resolves references, serves the subrequest in process and
// records its outcome.
func (e *Emulator) runSubrequest(c *call, sr compositeSubrequest, done map[string]*subResult) *subResult {
	url, err := substitute(sr.URL, done)
	if err != nil {
		return &subResult{resp: haltedResponse(sr.ReferenceID, err.Error())}
	}
	var body []byte
	if sr.Body != nil {
		v, err := substituteValue(sr.Body, done)
		if err != nil {
			return &subResult{resp: haltedResponse(sr.ReferenceID, err.Error())}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		body = buf.Bytes()
	}
	method := strings.ToUpper(sr.Method)
	rec := e.serveSubrequest(c, method, url, body, sr.HTTPHeaders)
	res := &subResult{resp: compositeSubresponse{Body: rec.jsonBody(), HTTPHeaders: map[string]string{}, HTTPStatusCode: rec.status(), ReferenceID: sr.ReferenceID}}
	if string(res.resp.Body) != "null" {
		dec := json.NewDecoder(bytes.NewReader(res.resp.Body))
		dec.UseNumber()
		_ = dec.Decode(&res.body)
	}
	if loc := rec.header.Get("Location"); loc != "" {
		res.resp.HTTPHeaders["Location"] = loc
	} else if res.resp.HTTPStatusCode == http.StatusCreated {
		// A create's subresponse names the new record (§5.4).
		if m, ok := res.body.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				p, _, _ := strings.Cut(url, "?")
				res.resp.HTTPHeaders["Location"] = strings.TrimRight(p, "/") + "/" + id
			}
		}
	}
	res.ok = res.resp.HTTPStatusCode < 400 && !collectionFailed(method, url, res.body)
	return res
}

// serveSubrequest serves one subrequest of a composite, batch or graph call
// in process, as the caller c: its session, host and TLS state. The
// subrequest skips counting, faults and authentication (serveRoute).
func (e *Emulator) serveSubrequest(c *call, method, url string, body []byte, headers map[string]string) *subRecorder {
	rec := &subRecorder{header: http.Header{}}
	ctx := context.WithValue(c.r.Context(), subrequestKey{}, c.sess)
	r, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		b, _ := json.Marshal([]APIError{{Message: "Invalid url: " + url, ErrorCode: "NOT_FOUND"}})
		rec.WriteHeader(http.StatusNotFound)
		rec.body.Write(b)
		return rec
	}
	r.Host = c.r.Host
	r.TLS = c.r.TLS
	r.RemoteAddr = c.r.RemoteAddr
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	if body != nil && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if a := c.r.Header.Get("Authorization"); a != "" {
		r.Header.Set("Authorization", a)
	}
	e.ServeHTTP(rec, r)
	return rec
}

// collectionFailed reports whether a collection write answered 200 with a
// failed record: for an all-or-none composite call that is a failure.
func collectionFailed(method, url string, body any) bool {
	if method == http.MethodGet || !strings.Contains(url, "/composite/sobjects") {
		return false
	}
	list, ok := body.([]any)
	if !ok {
		return false
	}
	for _, item := range list {
		if m, ok := item.(map[string]any); ok && m["success"] == false {
			return true
		}
	}
	return false
}

// substituteValue replaces references inside every string of a JSON value.
// A string that is one reference and nothing else takes the referenced
// value with its JSON type.
func substituteValue(v any, done map[string]*subResult) (any, error) {
	switch x := v.(type) {
	case string:
		if m := referenceRE.FindStringSubmatchIndex(x); m != nil && m[0] == 0 && m[1] == len(x) {
			return resolveReference(x[m[2]:m[3]], x[m[4]:m[5]], done)
		}
		return substitute(x, done)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			s, err := substituteValue(item, done)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			s, err := substituteValue(item, done)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return v, nil
}

// substitute replaces every reference in s with its value as text.
func substitute(s string, done map[string]*subResult) (string, error) {
	if !strings.Contains(s, "@{") {
		return s, nil
	}
	var firstErr error
	out := referenceRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := referenceRE.FindStringSubmatch(m)
		v, err := resolveReference(sub[1], sub[2], done)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return m
		}
		return referenceText(v)
	})
	return out, firstErr
}

// referenceText renders a referenced value inside a string.
func referenceText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// resolveReference evaluates path (id, records[0].Id, ...) in the body of
// the earlier subrequest ref. A reference to an unknown, later or failed
// subrequest, or to a value its body lacks, is an error: the dependent
// subrequest is not run.
func resolveReference(ref, path string, done map[string]*subResult) (any, error) {
	path = strings.TrimPrefix(path, ".")
	fail := func() (any, error) {
		return nil, fmt.Errorf("Invalid reference specified. No value for %s.%s found in %s. Provided referenceId ('%s') must be for a successful, earlier subrequest.", ref, path, ref, ref)
	}
	res, ok := done[ref]
	if !ok || !res.ok {
		return fail()
	}
	v := res.body
	for _, part := range strings.Split(path, ".") {
		name, idx, ok := splitIndexes(part)
		if !ok {
			return fail()
		}
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return fail()
			}
			if v, ok = m[name]; !ok {
				return fail()
			}
		}
		for _, i := range idx {
			list, ok := v.([]any)
			if !ok || i < 0 || i >= len(list) {
				return fail()
			}
			v = list[i]
		}
	}
	return v, nil
}

// splitIndexes splits "records[0][1]" into "records" and [0 1].
func splitIndexes(part string) (string, []int, bool) {
	name, rest, has := strings.Cut(part, "[")
	if !has {
		return name, nil, name != ""
	}
	rest = "[" + rest
	var idx []int
	for rest != "" {
		if rest[0] != '[' {
			return "", nil, false
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", nil, false
		}
		n, err := strconv.Atoi(rest[1:end])
		if err != nil {
			return "", nil, false
		}
		idx = append(idx, n)
		rest = rest[end+1:]
	}
	return name, idx, true
}

// subRecorder captures a subrequest's response in memory.
type subRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (s *subRecorder) Header() http.Header { return s.header }
func (s *subRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.body.Write(b)
}
func (s *subRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}

// jsonBody is the captured body as JSON: null when empty (204) or not JSON.
func (s *subRecorder) jsonBody() json.RawMessage {
	raw := bytes.TrimSpace(s.body.Bytes())
	if len(raw) == 0 || !json.Valid(raw) {
		return json.RawMessage("null")
	}
	return json.RawMessage(raw)
}

func (s *subRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// compositeRoutes registers /composite and its batch, tree and graph forms.
func (e *Emulator) compositeRoutes() {
	e.handle("/services/data/{version}/composite", KindComposite, true, map[string]handlerFunc{"POST": e.composite})
	e.handle("/services/data/{version}/composite/batch", KindComposite, true, map[string]handlerFunc{"POST": e.compositeBatch})      // composite_batch.go
	e.handle("/services/data/{version}/composite/tree/{type}", KindComposite, true, map[string]handlerFunc{"POST": e.compositeTree}) // composite_tree.go
	e.handle("/services/data/{version}/composite/graph", KindComposite, true, map[string]handlerFunc{"POST": e.compositeGraph})      // composite_graph.go
}
