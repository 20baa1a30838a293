package emulator

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultType names what a fault does when it fires.
type FaultType string

// Fault types. Every type honours Fault.Latency first, so "slow, then
// failing" is one rule.
const (
	// FaultError answers Status with Salesforce's error array
	// [{"message":Message,"errorCode":ErrorCode}] instead of serving the call.
	FaultError FaultType = "error"
	// FaultLatency only waits Latency, then serves the call normally.
	FaultLatency FaultType = "latency"
	// FaultDropAfterCommit serves the call fully against the org (the write
	// commits) and then closes the connection without sending the response:
	// the client sees a transport error and must not assume the write failed.
	FaultDropAfterCommit FaultType = "drop_after_commit"
	// FaultLockRow is the row-lock contention Salesforce reports under load:
	// sObject Collections writes answer 200 with every record failing with
	// statusCode UNABLE_TO_LOCK_ROW; other calls answer 400 errorCode
	// UNABLE_TO_LOCK_ROW. Nothing is written.
	FaultLockRow FaultType = "unable_to_lock_row"
	// FaultExpireSessions ends every access token just before the call is
	// authenticated, so the call (and every other live token's next call)
	// answers 401 INVALID_SESSION_ID. Refresh tokens stay valid.
	FaultExpireSessions FaultType = "expire_sessions"
)

// Fault is one fault-injection rule. A call matches when its method and URL
// path match; a matching call fires the rule with Probability, at most Count
// times. Rules are tried in the order they were added; the first that fires
// acts and later rules are not consulted for that call.
//
// Faults never apply to the admin API (/__emulator/...) nor to the
// subrequests of a composite call (the composite call itself can fault).
type Fault struct {
	// ID is assigned by AddFault ("f1", "f2", ...); ignored on input.
	ID string `json:"id,omitempty"`
	// Type is what the rule does. Empty: FaultError when Status or ErrorCode
	// is set, else FaultLatency when Latency is set.
	Type FaultType `json:"type,omitempty"`
	// Method matches the HTTP method, case-insensitively. Empty or "*": any.
	Method string `json:"method,omitempty"`
	// Path matches the URL path (trailing slash removed). Empty: any path.
	// A glob by default, where "*" matches within one path segment, "**"
	// across segments and "?" one character, e.g.
	// "/services/data/*/composite/sobjects" or "/services/data/**".
	// A "re:" prefix makes the rest a regular expression (unanchored).
	Path string `json:"path,omitempty"`
	// Count is how many times the rule fires before it retires. Zero: no limit.
	Count int `json:"count,omitempty"`
	// Probability is the chance, in [0,1], that a matching call fires the
	// rule. Zero means 1 (always).
	Probability float64 `json:"probability,omitempty"`
	// Status is the HTTP status of a FaultError. Zero means 500.
	Status int `json:"status,omitempty"`
	// ErrorCode and Message fill a FaultError's body. Empty: a code and text
	// matching Status (UNKNOWN_EXCEPTION for 500, SERVER_UNAVAILABLE for 503,
	// REQUEST_LIMIT_EXCEEDED for 403, ...).
	ErrorCode string `json:"errorCode,omitempty"`
	Message   string `json:"message,omitempty"`
	// Latency is waited before the rule acts, or, for FaultLatency, before the
	// call is served. A client that gives up first ends the wait. In JSON a
	// Go duration string ("250ms", "2s") or a number of milliseconds.
	Latency time.Duration `json:"-"`
	// Fired counts how often the rule has fired (reported by Faults; ignored on input).
	Fired int `json:"fired"`
}

// faultJSON is Fault on the wire: Latency as a duration string.
type faultJSON struct {
	faultAlias
	Latency json.RawMessage `json:"latency,omitempty"`
}

type faultAlias Fault

// MarshalJSON writes Latency as a Go duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	w := faultJSON{faultAlias: faultAlias(f)}
	if f.Latency > 0 {
		w.Latency, _ = json.Marshal(f.Latency.String())
	}
	return json.Marshal(w)
}

// UnmarshalJSON accepts Latency as "250ms" or as a number of milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var w faultJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = Fault(w.faultAlias)
	f.Latency = 0
	if len(w.Latency) == 0 || string(w.Latency) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(w.Latency, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = d
		return nil
	}
	var ms float64
	if err := json.Unmarshal(w.Latency, &ms); err != nil {
		return errors.New(`latency: want a duration string such as "250ms" or a number of milliseconds`)
	}
	f.Latency = time.Duration(ms * float64(time.Millisecond))
	return nil
}

// faultRule is a validated Fault with its compiled path.
type faultRule struct {
	Fault
	path *regexp.Regexp // nil: any path
}

// faultSet holds the rules. active mirrors len(rules) so that the common
// case, no rules at all, costs one atomic load and no lock.
type faultSet struct {
	active atomic.Int32

	mu     sync.Mutex
	rules  []*faultRule
	nextID int
	rnd    *rand.Rand
}

func newFaultSet() *faultSet {
	var seed [16]byte
	_, _ = crand.Read(seed[:])
	return &faultSet{rnd: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))}
}

// SeedFaults makes the coin flips of probabilistic faults repeatable: the
// same seed and the same sequence of calls fire the same rules.
func (e *Emulator) SeedFaults(seed uint64) {
	e.faults.mu.Lock()
	e.faults.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e.faults.mu.Unlock()
}

// AddFault validates and installs a rule and returns its Id.
func (e *Emulator) AddFault(f Fault) (string, error) {
	r, err := compileFault(f)
	if err != nil {
		return "", err
	}
	fs := e.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	r.ID = "f" + strconv.Itoa(fs.nextID)
	r.Fired = 0
	fs.rules = append(fs.rules, r)
	fs.active.Store(int32(len(fs.rules)))
	return r.ID, nil
}

// RemoveFault removes one rule; false if no rule has that Id.
func (e *Emulator) RemoveFault(id string) bool {
	fs := e.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.ID == id {
			fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			fs.active.Store(int32(len(fs.rules)))
			return true
		}
	}
	return false
}

// ClearFaults removes every rule.
func (e *Emulator) ClearFaults() {
	fs := e.faults
	fs.mu.Lock()
	fs.rules = nil
	fs.active.Store(0)
	fs.mu.Unlock()
}

// Faults returns the live rules in the order they are tried, with their
// Fired counts. Rules whose Count is spent are gone.
func (e *Emulator) Faults() []Fault {
	fs := e.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, len(fs.rules))
	for i, r := range fs.rules {
		out[i] = r.Fault
	}
	return out
}

// compileFault checks a rule and fills its defaults.
func compileFault(f Fault) (*faultRule, error) {
	if f.Type == "" {
		switch {
		case f.Status != 0 || f.ErrorCode != "":
			f.Type = FaultError
		case f.Latency > 0:
			f.Type = FaultLatency
		default:
			return nil, errors.New("fault: type is required (error, latency, drop_after_commit, unable_to_lock_row, expire_sessions, bulk_fail, bulk_stall)")
		}
	}
	switch f.Type {
	case FaultError:
		if f.Status == 0 {
			f.Status = http.StatusInternalServerError
		}
		if f.Status < 400 || f.Status > 599 {
			return nil, fmt.Errorf("fault: status %d is not an error status (400-599)", f.Status)
		}
		if f.ErrorCode == "" || f.Message == "" {
			code, msg := defaultFaultError(f.Status)
			if f.ErrorCode == "" {
				f.ErrorCode = code
			}
			if f.Message == "" {
				f.Message = msg
			}
		}
	case FaultLatency:
		if f.Latency <= 0 {
			return nil, errors.New("fault: a latency fault needs a positive latency")
		}
	case FaultDropAfterCommit, FaultLockRow, FaultExpireSessions, FaultBulkFail, FaultBulkStall:
	default:
		return nil, fmt.Errorf("fault: unknown type %q", f.Type)
	}
	if f.Latency < 0 {
		return nil, errors.New("fault: latency must not be negative")
	}
	if f.Count < 0 {
		return nil, errors.New("fault: count must not be negative")
	}
	if !(f.Probability >= 0 && f.Probability <= 1) { // also rejects NaN
		return nil, errors.New("fault: probability must be within [0,1]")
	}
	if f.Method == "*" {
		f.Method = ""
	}
	f.Method = strings.ToUpper(f.Method)
	r := &faultRule{Fault: f}
	if f.Path != "" {
		var err error
		if expr, ok := strings.CutPrefix(f.Path, "re:"); ok {
			r.path, err = regexp.Compile(expr)
		} else {
			r.path, err = regexp.Compile(globToRegexp(f.Path))
		}
		if err != nil {
			return nil, fmt.Errorf("fault: path %q: %w", f.Path, err)
		}
	}
	return r, nil
}

// globToRegexp turns a path glob into an anchored regular expression:
// "**" spans segments, "*" stays within one, "?" is one non-slash character.
// A trailing slash is ignored, as request paths have theirs removed.
func globToRegexp(glob string) string {
	if len(glob) > 1 {
		glob = strings.TrimRight(glob, "/")
	}
	var b strings.Builder
	b.WriteByte('^')
	for i := 0; i < len(glob); i++ {
		switch ch := glob[i]; ch {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteByte('$')
	return b.String()
}

// defaultFaultError is the errorCode and message Salesforce sends with status.
func defaultFaultError(status int) (string, string) {
	switch status {
	case http.StatusBadRequest:
		return "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"
	case http.StatusUnauthorized:
		return "INVALID_SESSION_ID", "Session expired or invalid"
	case http.StatusForbidden:
		return "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
	case http.StatusNotFound:
		return "NOT_FOUND", "The requested resource does not exist"
	case http.StatusTooManyRequests:
		return "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."
	case http.StatusServiceUnavailable:
		return "SERVER_UNAVAILABLE", "Server is temporarily unavailable due to maintenance. Please try again later."
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return "SERVER_UNAVAILABLE", "The server did not answer in time."
	default:
		return "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)"
	}
}

// pick returns the first rule that fires for the call, spending one of its
// Count, or nil.
func (fs *faultSet) pick(method, path string) *Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, r := range fs.rules {
		if r.Method != "" && r.Method != method {
			continue
		}
		if r.path != nil && !r.path.MatchString(path) {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && fs.rnd.Float64() >= r.Probability {
			continue
		}
		r.Fired++
		fired := r.Fault
		if r.Count > 0 && r.Fired >= r.Count {
			fs.rules = append(fs.rules[:i], fs.rules[i+1:]...)
			fs.active.Store(int32(len(fs.rules)))
		}
		return &fired
	}
	return nil
}

// adminPrefix is the root of the admin API, which faults never touch.
const adminPrefix = "/__emulator/"

// applyFaults runs the first rule that fires for the call. It returns true
// when it has answered (or the client went away during a delay); false lets
// the call be served, possibly through a writer the fault swapped in.
func (e *Emulator) applyFaults(c *call, authed bool) bool {
	if e.faults.active.Load() == 0 {
		return false
	}
	if strings.HasPrefix(c.r.URL.Path, adminPrefix) || isSubrequest(c.r) {
		return false
	}
	f := e.faults.pick(c.r.Method, c.r.URL.Path)
	if f == nil {
		return false
	}
	if f.Latency > 0 && f.Type != FaultBulkStall && f.Type != FaultBulkFail {
		// The server notices a client that hangs up only once the request
		// body has been read; buffer it so the wait below can end early.
		if body, err := io.ReadAll(c.r.Body); err == nil {
			c.r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			return true // nobody is listening any more
		}
	}
	switch f.Type {
	case FaultError:
		if authed && f.Status != http.StatusUnauthorized && f.Status != http.StatusTooManyRequests && f.Status < http.StatusBadGateway {
			e.countFaultedCall(c)
		}
		c.writeJSON(f.Status, []APIError{{Message: f.Message, ErrorCode: f.ErrorCode}})
		return true
	case FaultLockRow:
		if authed {
			e.countFaultedCall(c)
		}
		e.answerLockRow(c)
		return true
	case FaultExpireSessions:
		e.ExpireSessions()
		return false
	case FaultDropAfterCommit:
		return e.dropAfterServing(c)
	case FaultBulkFail, FaultBulkStall:
		markBulkFault(c, f) // bulkpace.go: acts on the job this call closes
		return false
	}
	return false // FaultLatency: served normally after the wait
}

// lockRowMessage is Salesforce's text for UNABLE_TO_LOCK_ROW.
const lockRowMessage = "unable to obtain exclusive access to this record or 1 records: "

// answerLockRow answers a lock-contention failure in the shape the call's
// resource uses: per-record results for collection writes, an error array
// elsewhere.
// countFaultedCall counts a call a fault rule answers as an error raised
// inside the API (UNKNOWN_EXCEPTION, UNABLE_TO_LOCK_ROW, a 4xx) and sets
// Sforce-Limit-Info, as Salesforce does on every answer to an
// authenticated REST call; a call without a valid session is left alone.
// Faults standing for the edge (401, 429, 502 and up) are not counted.
func (e *Emulator) countFaultedCall(c *call) {
	if sess, ok := e.authenticate(c.r); ok && hasScope(sess.Scopes, "api", "full") {
		e.spendCall(c)
	}
}

func (e *Emulator) answerLockRow(c *call) {
	if strings.Contains(c.r.URL.Path, "/composite/sobjects") && c.r.Method != http.MethodGet {
		n := 0
		if c.r.Method == http.MethodDelete {
			if ids := c.r.URL.Query().Get("ids"); ids != "" {
				n = len(strings.Split(ids, ","))
			}
		} else if body, err := readBody(c.r, maxJSONBody); err == nil {
			var req struct {
				Records []json.RawMessage `json:"records"`
			}
			if json.Unmarshal(body, &req) == nil {
				n = len(req.Records)
			}
		}
		if n > 0 {
			res := make([]saveResult, n)
			for i := range res {
				res[i] = saveResult{Errors: []recordErrorJSON{{StatusCode: "UNABLE_TO_LOCK_ROW", Message: lockRowMessage + "1", Fields: []string{}}}}
			}
			c.writeJSON(http.StatusOK, res)
			return
		}
	}
	c.writeError(http.StatusBadRequest, "UNABLE_TO_LOCK_ROW", lockRowMessage+"1", []string{})
}

// dropAfterServing takes the connection over, lets the call be served into
// a discarding writer, and closes the connection once the handler has
// returned (the request context ends then), so the write commits but the
// client never sees the answer. Without a hijackable connection (HTTP/2,
// recorders) it answers nothing and aborts the handler instead, before any
// write: the next best imitation of a lost answer.
func (e *Emulator) dropAfterServing(c *call) bool {
	// The body must be read before the hijack: afterwards it is no longer ours.
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		return true // the client is gone already
	}
	c.r.Body = io.NopCloser(bytes.NewReader(body))
	conn, _, err := http.NewResponseController(c.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	c.w = discardWriter{h: http.Header{}}
	ctx := c.r.Context()
	go func() {
		<-ctx.Done() // the server cancels it when the handler returns
		_ = conn.Close()
	}()
	return false
}

// discardWriter is an http.ResponseWriter that throws the answer away.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// --- admin API -------------------------------------------------------------

// adminFaults serves GET (list), POST (add one rule, or an array of rules)
// and DELETE (remove all) on /__emulator/faults.
func (e *Emulator) adminFaults(c *call) {
	switch c.r.Method {
	case http.MethodGet, http.MethodHead:
		c.writeJSON(http.StatusOK, e.Faults())
	case http.MethodDelete:
		e.ClearFaults()
		c.writeNoContent()
	case http.MethodPost:
		body, err := readBody(c.r, 1<<20)
		if err != nil {
			c.writeError(http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", err.Error(), nil)
			return
		}
		var many []Fault
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
			err = json.Unmarshal(t, &many)
		} else {
			var one Fault
			err = json.Unmarshal(t, &one)
			many = []Fault{one}
		}
		if err != nil {
			c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", jsonErrorMessage(err), nil)
			return
		}
		rules := make([]*faultRule, 0, len(many))
		for _, f := range many {
			r, err := compileFault(f)
			if err != nil {
				c.writeError(http.StatusBadRequest, "INVALID_FAULT", err.Error(), nil)
				return
			}
			rules = append(rules, r)
		}
		ids := make([]string, 0, len(rules))
		for _, r := range rules {
			id, _ := e.AddFault(r.Fault) // already valid
			ids = append(ids, id)
		}
		if len(ids) == 1 {
			c.writeJSON(http.StatusCreated, map[string]any{"id": ids[0]})
			return
		}
		c.writeJSON(http.StatusCreated, map[string]any{"ids": ids})
	}
}

// adminFault serves DELETE /__emulator/faults/{id}.
func (e *Emulator) adminFault(c *call) {
	if !e.RemoveFault(c.r.PathValue("id")) {
		c.writeError(http.StatusNotFound, "NOT_FOUND", "no fault with id "+c.r.PathValue("id"), nil)
		return
	}
	c.writeNoContent()
}
