package console_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// fakeEngine records notifications; the console needs nothing else of it.
type fakeEngine struct {
	mu       sync.Mutex
	notified int
}

func (e *fakeEngine) MappingsFor(source string) []string {
	if source == "contact" {
		return []string{"leads"}
	}
	return nil
}
func (e *fakeEngine) Notify()        { e.mu.Lock(); e.notified++; e.mu.Unlock() }
func (e *fakeEngine) Paused() string { return "" }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	t      *testing.T
	store  *sqlite.Store
	clk    *clock
	c      *console.Console
	admins []console.Admin
	path   string // the store's SQLite file
}

const password = "correct horse battery"

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

func newFixtureWith(t *testing.T, conn console.Connector) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "c.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	c, err := console.New(console.Config{Store: st, Engine: &fakeEngine{}, Now: clk.Now,
		Admins:      []console.Admin{{Username: "alice", PasswordHash: string(hash)}},
		Sources:     []console.Source{{Name: "contact"}},
		Mappings:    []forcesync.Mapping{{Name: "leads", Source: "contact", Object: "Lead", Connection: "org", Fields: []forcesync.FieldRow{{Target: "Email", SourceField: "email"}}}},
		Connections: []forcesync.Connection{{Name: "org"}},
		Connector:   conn,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: st, clk: clk, c: c, admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, path: path}
}

// do sends a request straight to the handler, as a same-origin browser would.
func (f *fixture) do(method, target string, form url.Values, cookie *http.Cookie, hdr map[string]string) *http.Response {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = "192.0.2.1:1234"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if k == "remote" { // the client's address, not a header
			req.RemoteAddr = v
			continue
		}
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, req)
	return w.Result()
}

func (f *fixture) signIn() *http.Cookie {
	f.t.Helper()
	res := f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {password}, "next": {"/records"}}, nil, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/records" {
		f.t.Fatalf("sign in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "forcesync_session" {
			return ck
		}
	}
	f.t.Fatal("no session cookie")
	return nil
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignInRequired(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/", "/records", "/failures", "/runs", "/mappings", "/records/contact/k1"} {
		res := f.do("GET", p, nil, nil, nil)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s signed out: %d %q", p, res.StatusCode, res.Header.Get("Location"))
		}
	}
	res := f.do("POST", "/retry", url.Values{"item": {"leads/k1"}}, nil, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /retry signed out: %d", res.StatusCode)
	}
	// A forged or stale cookie is no session.
	res = f.do("GET", "/", nil, &http.Cookie{Name: "forcesync_session", Value: "forged"}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("forged cookie: %d", res.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/login", "/", "/static/console.css", "/nope"} {
		res := f.do("GET", p, nil, nil, nil)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", p, res.Header)
		}
	}
	// No template or page carries inline script or inline style.
	res := f.do("GET", "/login", nil, nil, nil)
	html := body(t, res)
	if strings.Contains(html, "<script>") || strings.Contains(html, "style=") || strings.Contains(html, "onclick") {
		t.Errorf("inline script or style in the login page:\n%s", html)
	}
}

func TestSignInCookieAndSession(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
		t.Fatalf("cookie over HTTP: %+v", ck)
	}
	// The store keeps the token's hash, never the token.
	sum := sha256.Sum256([]byte(ck.Value))
	ses, err := f.store.Session(context.Background(), hex.EncodeToString(sum[:]), f.clk.Now())
	if err != nil || ses.User != "alice" {
		t.Fatalf("stored session: %+v %v", ses, err)
	}
	if _, err := f.store.Session(context.Background(), ck.Value, f.clk.Now()); err == nil {
		t.Fatal("the raw token is a session id in the store")
	}
	if res := f.do("GET", "/", nil, ck, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("overview signed in: %d", res.StatusCode)
	}
	// The session expires after its TTL (12 h by default).
	f.clk.Advance(12*time.Hour + time.Second)
	if res := f.do("GET", "/", nil, ck, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("expired session: %d", res.StatusCode)
	}
}

func TestSignInOverTLSIsSecure(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("POST", "https://console.example/login",
		strings.NewReader(url.Values{"username": {"alice"}, "password": {password}}.Encode()))
	req.TLS = &tls.ConnectionState{}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.c.ServeHTTP(w, req)
	cks := w.Result().Cookies()
	if len(cks) != 1 || cks[0].Name != "__Host-forcesync_session" || !cks[0].Secure || cks[0].Path != "/" {
		t.Fatalf("cookies over TLS: %+v", cks)
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	if res := f.do("POST", "/logout", url.Values{}, ck, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if res := f.do("GET", "/", nil, ck, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", res.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 5; i++ {
		res := f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, nil, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, res.StatusCode)
		}
	}
	// Even the right password is refused while the window lasts.
	res := f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {password}}, nil, nil)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Another address guessing the same user is refused too.
	res = f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"x"}}, nil, map[string]string{"remote": "198.51.100.7:999"})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("same user: %d", res.StatusCode)
	}
	f.clk.Advance(15 * time.Minute)
	f.signIn()
}

func TestUnknownUserAndOpenRedirect(t *testing.T) {
	f := newFixture(t)
	res := f.do("POST", "/login", url.Values{"username": {"mallory"}, "password": {password}}, nil, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body(t, res), "Wrong username or password") {
		t.Fatalf("unknown user: %d", res.StatusCode)
	}
	// Browsers drop tabs and newlines from a Location, so "/\t/evil.example"
	// would land on //evil.example.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/\t/evil.example/", "/\r\n/evil.example/"} {
		res := f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {password}, "next": {next}}, nil, nil)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

// held puts key k of source contact into the held state under mapping leads.
func (f *fixture) held(key, email string) {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.store.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: key, Op: forcesync.OpUpsert,
		Fields: map[string]any{"email": email, "last_name": "X"}}}); err != nil {
		f.t.Fatal(err)
	}
	items, err := f.store.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 10, Now: f.clk.Now()})
	if err != nil || len(items) == 0 {
		f.t.Fatalf("claim: %v %d", err, len(items))
	}
	var outs []forcesync.Outcome
	for _, it := range items {
		outs = append(outs, forcesync.Outcome{Item: it, State: forcesync.StateHeld, Fingerprint: "fp",
			Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "Email: invalid email address: " + email, Fields: []string{"Email"}}})
	}
	if err := f.store.Complete(ctx, "w", outs, &forcesync.Run{Mapping: "leads", API: "collections", Started: f.clk.Now(),
		Finished: f.clk.Now(), Records: len(outs), Failed: len(outs), APICalls: 1}); err != nil {
		f.t.Fatal(err)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "bad")
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
	} {
		res := f.do("POST", "/retry", url.Values{"item": {"leads/k1"}}, ck, hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin retry %v: %d", hdr, res.StatusCode)
		}
	}
	if n, _ := f.store.Backlog(context.Background(), "leads"); n != 0 {
		t.Fatalf("a refused request queued %d records", n)
	}
	// Signing in from another site is refused as well (login CSRF).
	res := f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {password}}, nil, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d", res.StatusCode)
	}
	// The same request from the console itself goes through.
	res = f.do("POST", "/retry", url.Values{"item": {"leads/k1"}, "back": {"/failures"}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/failures?done=retry" {
		t.Fatalf("same-origin retry: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n, _ := f.store.Backlog(context.Background(), "leads"); n != 1 {
		t.Fatalf("backlog after retry = %d, want 1", n)
	}
}

func TestFailuresGroupedAndBulkRetry(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "bad1")
	f.held("k2", "bad2")
	html := body(t, f.do("GET", "/failures", nil, ck, nil))
	if !strings.Contains(html, "INVALID_EMAIL_ADDRESS</code> in leads: 2 records") || !strings.Contains(html, "Correct it in the application") {
		t.Fatalf("failures page:\n%s", html)
	}
	res := f.do("POST", "/retry", url.Values{"group": {"leads/INVALID_EMAIL_ADDRESS"}, "back": {"/failures"}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("group retry: %d", res.StatusCode)
	}
	if n, _ := f.store.Backlog(context.Background(), "leads"); n != 2 {
		t.Fatalf("backlog after group retry = %d, want 2", n)
	}
	if html := body(t, f.do("GET", "/failures", nil, ck, nil)); !strings.Contains(html, "No record is held") {
		t.Fatalf("failures after retry:\n%s", html)
	}
}

func TestRecordSearchAndEdit(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "Ada@Example.com")
	for _, q := range []string{"k1", "ada@example.com"} {
		html := body(t, f.do("GET", "/records?q="+url.QueryEscape(q), nil, ck, nil))
		if !strings.Contains(html, `href="/records/contact/k1"`) {
			t.Errorf("search %q found nothing:\n%s", q, html)
		}
	}
	html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	for _, want := range []string{"INVALID_EMAIL_ADDRESS", "held", "Retry", "Ada@Example.com"} {
		if !strings.Contains(html, want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	res := f.do("POST", "/records/contact/k1/fields", url.Values{"fields": {`{"email": `}}, ck, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, res), "must be a JSON object") {
		t.Fatalf("bad JSON: %d", res.StatusCode)
	}
	res = f.do("POST", "/records/contact/k1/fields", url.Values{"fields": {`{"email": "ada@example.com", "last_name": "Lovelace"}`}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/records/contact/k1?done=fields" {
		t.Fatalf("edit: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	rec, err := f.store.SourceRecord(context.Background(), "contact", "k1")
	if err != nil || rec.Fields["last_name"] != "Lovelace" || rec.Version < 2 {
		t.Fatalf("record after edit: %+v %v", rec, err)
	}
	if n, _ := f.store.Backlog(context.Background(), "leads"); n != 1 {
		t.Fatalf("edited record not queued: backlog %d", n)
	}
	if res := f.do("GET", "/records/nosuch/k1", nil, ck, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown source: %d", res.StatusCode)
	}
}

func TestPagesRender(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "bad")
	for p, want := range map[string]string{
		"/":         "Records per minute",
		"/mappings": "contact → Lead",
		"/runs":     "API calls against the budget: org",
		"/records":  "k1",
	} {
		res := f.do("GET", p, nil, ck, nil)
		html := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.Contains(html, want) {
			t.Errorf("GET %s: %d, want %q in:\n%s", p, res.StatusCode, want, html)
		}
		if strings.Contains(html, "style=") {
			t.Errorf("GET %s has an inline style (the CSP refuses it)", p)
		}
	}
}

// TestSignInFailureIsAnError: a refused sign-in is said as an error (an
// alert a screen reader announces), not as a notice of success.
func TestSignInFailureIsAnError(t *testing.T) {
	f := newFixture(t)
	html := body(t, f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, nil, nil))
	if !strings.Contains(html, `<p class="banner err" role="alert">Wrong username or password.</p>`) {
		t.Fatalf("failed sign-in:\n%s", html)
	}
	for range 5 {
		f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, nil, nil)
	}
	html = body(t, f.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong"}}, nil, nil))
	if !strings.Contains(html, `<p class="banner err" role="alert">Too many failed sign-ins.`) {
		t.Fatalf("refused sign-in:\n%s", html)
	}
}

// TestRecordsSyncSelectedSaysSo: "Sync selected now" comes back to the
// search it was pressed on, which says the records were queued; a query
// with & or # comes back whole.
func TestRecordsSyncSelectedSaysSo(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "bad")
	f.held("k2&x#y", "bad")
	html := body(t, f.do("GET", "/records?q="+url.QueryEscape("k2&x#y"), nil, ck, nil))
	if !strings.Contains(html, `name="back" value="/records?q=k2%26x%23y"`) {
		t.Fatalf("records page's way back:\n%s", html)
	}
	res := f.do("POST", "/retry", url.Values{"item": {"leads/k1"}, "back": {"/records?q=k1"}}, ck, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/records?q=k1&done=retry" {
		t.Fatalf("sync selected: %d %q", res.StatusCode, loc)
	}
	if html := body(t, f.do("GET", "/records?q=k1&done=retry", nil, ck, nil)); !strings.Contains(html, "Queued again") {
		t.Fatalf("records page after syncing:\n%s", html)
	}
}
