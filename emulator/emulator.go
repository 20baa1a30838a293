package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Versions served: every API version from MinVersion to MaxVersion, whole numbers.
const (
	MinVersion = 31
	MaxVersion = 68
)

// Kind classifies an API call for the statistics served at /__emulator/stats.
type Kind string

// Kinds of calls counted by the emulator.
const (
	KindNone        Kind = ""            // not counted (version list, admin API, login page)
	KindREST        Kind = "rest"        // sObject resources, describe, limits, ...
	KindCollections Kind = "collections" // /composite/sobjects
	KindComposite   Kind = "composite"   // /composite
	KindQuery       Kind = "query"       // query, queryAll and their next pages
	KindBulk        Kind = "bulk"        // /jobs/ingest and /jobs/query
	KindOAuth       Kind = "oauth"       // /services/oauth2/*, identity URL
)

// Emulator is a Salesforce org in memory, served over HTTP by Handler.
//
// All org state (schema, records, sessions, usage) is guarded by mu. Handlers
// take the write lock for DML and the read lock for reads; helpers whose name
// ends in Locked expect the caller to hold the lock.
type Emulator struct {
	cfg Config
	now func() time.Time

	mu sync.RWMutex
	// org is the persisted state: schema, records, recycle bin, counters.
	org *org
	// sessions maps access tokens to their session; refresh maps refresh
	// tokens to the grant they renew. Not persisted: a restart logs everyone out,
	// as a Salesforce instance switch would.
	sessions map[string]*Session
	refresh  map[string]*refreshGrant
	// authCodes maps authorization codes to the pending grant.
	authCodes map[string]*authCode

	statsMu sync.Mutex
	stats   map[Kind]int64

	faults *faultSet
	// persist saves the org to Config.DataFile (persist.go).
	persist persistState
	// bulk holds the Bulk API 2.0 jobs and their worker (bulk.go).
	bulk bulkJobs
	// admin holds the knobs of the admin API (admin.go).
	admin adminState
	// gate keeps other handlers out while an all-or-none /composite call
	// runs its subrequests as one transaction (composite.go): handlers run
	// under its read lock, such a composite call under its write lock.
	gate sync.RWMutex
	// oauth holds connected apps, browser logins and approvals (oauth.go).
	oauth *oauthState

	mux *http.ServeMux
}

// versionRE matches the vNN.N segment of a REST path.
var versionRE = regexp.MustCompile(`^v(\d{2})\.0$`)

// parseVersion turns "v65.0" into "65.0"; ok is false for an unknown or
// retired version. "latest" is Salesforce's alias for the newest version
// (salesforce-api.md §1), here MaxVersion.
func parseVersion(seg string) (string, bool) {
	if seg == "latest" {
		return strconv.Itoa(MaxVersion) + ".0", true
	}
	m := versionRE.FindStringSubmatch(seg)
	if m == nil {
		return "", false
	}
	n, _ := strconv.Atoi(m[1])
	if n < MinVersion || n > MaxVersion {
		return "", false
	}
	return m[1] + ".0", true
}

// versionNumber returns 65 for "65.0".
func versionNumber(v string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(v, ".0"))
	return n
}

// call is one request being served.
type call struct {
	e       *Emulator
	w       http.ResponseWriter
	r       *http.Request
	version string   // "65.0"; empty outside /services/data/vNN.N
	sess    *Session // the caller's session; nil for public endpoints
}

// handlerFunc serves one call. It writes the response itself.
type handlerFunc func(c *call)

// route describes one path with its handlers by method.
type route struct {
	kind    Kind
	auth    bool // requires a Bearer session
	methods map[string]handlerFunc
	// badMethod, when set, answers a method not in methods instead of the
	// REST API's 405 (Bulk API 1.0 answers in its own fault shape).
	badMethod handlerFunc
}

// handle registers handlers for a ServeMux path pattern (without method),
// e.g. "/services/data/{version}/sobjects/{type}/describe". A method not in
// methods answers 405 METHOD_NOT_ALLOWED the way Salesforce does. Paths
// under /services/data/{version} check the version, authenticate the caller
// (when auth is set), count the call against the daily allowance and set
// Sforce-Limit-Info.
func (e *Emulator) handle(pattern string, kind Kind, auth bool, methods map[string]handlerFunc) {
	rt := &route{kind: kind, auth: auth, methods: methods}
	e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		e.serveRoute(rt, w, r)
	})
}

func (e *Emulator) serveRoute(rt *route, w http.ResponseWriter, r *http.Request) {
	c := &call{e: e, w: w, r: r}
	sub, isSub := subrequestSession(r)
	// failEarly answers a request refused before its handler (unknown or
	// retired version, method not allowed). On an authenticated resource
	// Salesforce checks the session first and sends Sforce-Limit-Info on
	// every answer but the version list (REST guide, "Limit Info Header"),
	// so the caller is authenticated and the call counted before the error.
	failEarly := func(write func()) {
		if rt.auth && !isSub && !e.authorizeCall(c) {
			return
		}
		write()
	}
	if v := r.PathValue("version"); v != "" {
		ver, ok := parseVersion(v)
		if !ok {
			failEarly(func() {
				// Salesforce answers retired versions with 410 and unknown ones with 404.
				if m := versionRE.FindStringSubmatch(v); m != nil {
					if n, _ := strconv.Atoi(m[1]); n < MinVersion && n >= 20 {
						c.writeError(http.StatusGone, "API_VERSION_RETIRED", fmt.Sprintf("Requested version v%s is retired", m[1]+".0"), nil)
						return
					}
				}
				c.writeError(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist", nil)
			})
			return
		}
		c.version = ver
	}
	h, ok := rt.methods[r.Method]
	if !ok && r.Method == http.MethodHead {
		h, ok = rt.methods[http.MethodGet]
	}
	if !ok && rt.badMethod != nil {
		rt.badMethod(c)
		return
	}
	if !ok {
		allowed := make([]string, 0, len(rt.methods))
		for _, m := range []string{"HEAD", "GET", "POST", "PUT", "PATCH", "DELETE"} {
			if _, has := rt.methods[m]; has || (m == "HEAD" && rt.methods["GET"] != nil) {
				allowed = append(allowed, m)
			}
		}
		failEarly(func() {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			c.writeError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
				fmt.Sprintf("HTTP Method '%s' not allowed. Allowed are %s", r.Method, strings.Join(allowed, ",")), nil)
		})
		return
	}
	if isSub {
		// A /composite subrequest (composite.go): the composite call was
		// counted, faulted and authenticated once for all of them.
		c.sess = sub
		h(c)
		return
	}
	if rt.kind != KindNone {
		e.count(rt.kind)
	}
	if e.applyFaults(c, rt.auth) {
		return
	}
	if rt.auth && !e.authorizeCall(c) {
		return
	}
	if rt.kind != KindComposite {
		// composite.go takes the gate itself, in the mode allOrNone needs.
		e.gate.RLock()
		defer e.gate.RUnlock()
	}
	h(c)
}

// authorizeCall authenticates c for the REST API and counts it against the
// daily allowance, setting Sforce-Limit-Info. It answers 401 (no, expired
// or scope-less session) or 403 (allowance spent) itself and returns false.
func (e *Emulator) authorizeCall(c *call) bool {
	sess, ok := e.authenticate(c.r)
	if !ok {
		c.writeError(http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid", nil)
		return false
	}
	if !hasScope(sess.Scopes, "api", "full") {
		// A token granted without the api scope (scope=openid, say) is
		// a live session but not one for the REST API (§3.5).
		c.writeError(http.StatusUnauthorized, "INVALID_SESSION_ID", "This session is not valid for use with the REST API", nil)
		return false
	}
	c.sess = sess
	return e.spendAPICall(c)
}

// count adds one call of kind to the statistics.
func (e *Emulator) count(k Kind) {
	e.statsMu.Lock()
	e.stats[k]++
	e.statsMu.Unlock()
}

// Stats returns the number of calls served by kind since start or the last reset.
func (e *Emulator) Stats() map[Kind]int64 {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	out := make(map[Kind]int64, len(e.stats))
	for k, v := range e.stats {
		out[k] = v
	}
	return out
}

// ServeHTTP serves the emulator. Paths are matched with a trailing slash
// removed, as Salesforce does ("/sobjects/" and "/sobjects" are the same),
// except the version list itself.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An instance URL saved with a trailing slash (the sf CLI's access-token
	// login does that) makes clients ask for "//services/data/...". Salesforce
	// serves those; ServeMux would redirect to a relative Location, which the
	// CLI cannot follow. Only the leading run is collapsed: later segments can
	// hold External ID values.
	if p := r.URL.Path; strings.HasPrefix(p, "//") {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + strings.TrimLeft(p, "/")
		if r2.URL.RawPath != "" {
			r2.URL.RawPath = "/" + strings.TrimLeft(r2.URL.RawPath, "/")
		}
		r = r2
	}
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") && p != "/services/data/" {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimRight(p, "/")
		if r2.URL.RawPath != "" {
			r2.URL.RawPath = strings.TrimRight(r2.URL.RawPath, "/")
		}
		r = r2
	}
	r = methodOverride(r)
	// Request limits and compression (soqllimits.go, gzip.go).
	refuse := func(status int, code, msg string) { e.refuseBody(w, r, status, code, msg) }
	if refuseOversizedRequest(w, r) || !decodeRequestBody(r, refuse) {
		return
	}
	w, done := withCompression(w, r)
	e.mux.ServeHTTP(w, r)
	done() // not deferred: a handler that panics (ErrAbortHandler) sends nothing more
}

// methodOverride serves POST ...?_HttpMethod=PATCH as a PATCH: the REST
// guide ("Update a Record") offers the parameter to HTTP libraries that
// cannot send PATCH (Java's HttpURLConnection), and Java clients use it.
// The parameter is taken off the query the handler sees.
func methodOverride(r *http.Request) *http.Request {
	if r.Method != http.MethodPost || !strings.Contains(r.URL.RawQuery, "_HttpMethod=") {
		return r
	}
	q := r.URL.Query()
	m := strings.ToUpper(q.Get("_HttpMethod"))
	switch m {
	case http.MethodPatch, http.MethodPut, http.MethodDelete, http.MethodGet, http.MethodHead:
	default:
		return r
	}
	r2 := r.Clone(r.Context())
	r2.Method = m
	q.Del("_HttpMethod")
	r2.URL.RawQuery = q.Encode()
	return r2
}

// Handler returns the emulator as an http.Handler.
func (e *Emulator) Handler() http.Handler { return e }

// --- responses -------------------------------------------------------------

// APIError is one element of a Salesforce REST error body (an array).
type APIError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// writeJSON writes v as JSON with Salesforce's content type.
func (c *call) writeJSON(status int, v any) {
	c.w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(c.w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError writes Salesforce's error array with one element. fields nil
// omits the key (auth, NOT_FOUND, query errors); an empty non-nil slice
// writes "fields":[] as record errors do.
func (c *call) writeError(status int, code, msg string, fields []string) {
	type errWithFields struct {
		Message   string   `json:"message"`
		ErrorCode string   `json:"errorCode"`
		Fields    []string `json:"fields"`
	}
	if status == http.StatusUnauthorized {
		noStore(c.w.Header()) // describe_cache.go
	}
	if fields != nil {
		c.writeJSON(status, []errWithFields{{msg, code, fields}})
		return
	}
	c.writeJSON(status, []APIError{{Message: msg, ErrorCode: code}})
}

// writeNoContent writes 204.
func (c *call) writeNoContent() { c.w.WriteHeader(http.StatusNoContent) }

// readJSON decodes the request body into v, answering Salesforce's errors
// for a missing or malformed body. It returns false when it has answered.
func (c *call) readJSON(v any) bool {
	ct := c.r.Header.Get("Content-Type")
	if m, ok := v.(*map[string]any); ok && isXMLContent(ct) {
		return c.readXMLRecord(m) // xmlbody.go
	}
	if ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		c.writeError(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			fmt.Sprintf("Content type '%s' not supported", ct), nil)
		return false
	}
	body, err := readBody(c.r, maxJSONBody)
	if err != nil {
		c.writeError(http.StatusRequestEntityTooLarge, "JSON_PARSER_ERROR", err.Error(), nil)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", "The HTTP entity body is required, but this request has no entity body.", nil)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		c.writeError(http.StatusBadRequest, "JSON_PARSER_ERROR", jsonErrorMessage(err), nil)
		return false
	}
	return true
}
