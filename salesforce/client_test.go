package salesforce

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeOrg is a small stand-in for Salesforce's OAuth and REST endpoints,
// for what the emulator does not serve yet and for faults it cannot make.
type fakeOrg struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	access       string // the valid access token
	refresh      string // the valid refresh token
	refreshCalls atomic.Int64
	tokenForms   []map[string][]string
	refreshGate  chan struct{} // when set, the refresh waits on it
	handlers     map[string]http.HandlerFunc
	limitUsed    atomic.Int64
}

func newFakeOrg(t *testing.T) *fakeOrg {
	f := &fakeOrg{t: t, access: "00Dfake!AT1", refresh: "RT1", handlers: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOrg) handle(pattern string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[pattern] = h
}

// expire makes the current access token invalid.
func (f *fakeOrg) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.access += "-expired"
}

func (f *fakeOrg) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/services/oauth2/token":
		f.token(w, r)
		return
	case "/services/data":
		json.NewEncoder(w).Encode([]Version{{Label: "Winter '26", URL: "/services/data/v65.0", Version: "65.0"},
			{Label: "Summer '26", URL: "/services/data/v67.0", Version: "67.0"}, {Label: "Spring '26", URL: "/services/data/v66.0", Version: "66.0"}})
		return
	}
	f.mu.Lock()
	ok := r.Header.Get("Authorization") == "Bearer "+f.access
	h := f.handlers[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(401)
		io.WriteString(w, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
		return
	}
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/15000", f.limitUsed.Add(1)))
	if h == nil {
		w.WriteHeader(404)
		io.WriteString(w, `[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`)
		return
	}
	h(w, r)
}

func (f *fakeOrg) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || len(r.URL.RawQuery) > 0 {
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"invalid_request","error_description":"bad token request"}`)
		return
	}
	f.mu.Lock()
	f.tokenForms = append(f.tokenForms, r.PostForm)
	gate := f.refreshGate
	f.mu.Unlock()
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		f.refreshCalls.Add(1)
		if gate != nil {
			<-gate
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.PostForm.Get("refresh_token") != f.refresh {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`)
			return
		}
		f.access = fmt.Sprintf("00Dfake!AT%d", f.refreshCalls.Load()+1)
		f.writeToken(w, false)
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"error":"unsupported_grant_type","error_description":"grant type not supported"}`)
	}
}

// writeToken answers like Salesforce: no expires_in, issued_at in ms.
func (f *fakeOrg) writeToken(w http.ResponseWriter, withRefresh bool) {
	m := map[string]any{
		"access_token": f.access, "instance_url": f.srv.URL,
		"id":         f.srv.URL + "/id/00D5e000000FrcSEAS/0055e000001AbCdAAK",
		"token_type": "Bearer", "issued_at": "1718000000000", "signature": "c2ln",
	}
	if withRefresh {
		m["refresh_token"] = f.refresh
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

func (f *fakeOrg) client(t *testing.T, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		LoginURL: f.srv.URL,
		Auth:     &RefreshToken{ClientID: "cid", ClientSecret: "csecret", RefreshToken: "RT1"},
		Retry:    RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestNewClientPinsNewestVersion(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	if c.Version() != "67.0" {
		t.Fatalf("version = %q, want 67.0", c.Version())
	}
	if c.DataPath("sobjects/Lead") != "/services/data/v67.0/sobjects/Lead" {
		t.Fatalf("DataPath = %q", c.DataPath("sobjects/Lead"))
	}
	if c.InstanceURL() != f.srv.URL {
		t.Fatalf("instance = %q, want %q", c.InstanceURL(), f.srv.URL)
	}
	c2 := f.client(t, func(cfg *Config) { cfg.APIVersion = "v65.0" })
	if c2.Version() != "65.0" {
		t.Fatalf("pinned version = %q", c2.Version())
	}
}

func TestConcurrent401sRefreshOnce(t *testing.T) {
	f := newFakeOrg(t)
	var tokens atomic.Int64
	c := f.client(t, func(cfg *Config) {
		cfg.Hooks.OnToken = func(*oauth2.Token) { tokens.Add(1) }
	})
	f.handle("POST /services/data/v67.0/thing", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b) // echo: proves the body was replayed intact
	})
	before := f.refreshCalls.Load()
	f.expire()
	gate := make(chan struct{})
	f.mu.Lock()
	f.refreshGate = gate
	f.mu.Unlock()

	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			body := fmt.Sprintf(`{"n":%d}`, i)
			resp, err := c.Do(WithRetrySafe(context.Background()), KindREST, "POST", c.DataPath("thing"), strings.NewReader(body), nil)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if string(got) != body {
				errs <- fmt.Errorf("replayed body = %q, want %q", got, body)
			}
		})
	}
	// Wait until the refresh is in flight, then let it finish.
	deadline := time.Now().Add(10 * time.Second)
	for f.refreshCalls.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("no refresh started")
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.refreshCalls.Load() - before; got != 1 {
		t.Fatalf("refresh calls = %d, want exactly 1", got)
	}
}

func TestRevokedRefreshTokenNeedsReauthorization(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	f.handle("GET /services/data/v67.0/limits", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) })
	f.mu.Lock()
	f.refresh = "RT-other" // the stored refresh token is now revoked
	f.mu.Unlock()
	f.expire()
	before := f.refreshCalls.Load()
	_, err := c.Limits(context.Background())
	var ae *AuthError
	if !errors.As(err, &ae) || !ae.Reauthorize || ae.Code != "invalid_grant" {
		t.Fatalf("err = %v, want *AuthError invalid_grant with Reauthorize", err)
	}
	if strings.Contains(err.Error(), "RT1") || strings.Contains(err.Error(), "csecret") {
		t.Fatalf("error leaks a secret: %v", err)
	}
	if got := f.refreshCalls.Load() - before; got != 1 {
		t.Fatalf("refresh calls = %d, want 1 (never a loop)", got)
	}
	if Retryable(err) {
		t.Fatal("a revoked refresh token must not be retryable")
	}
}

func TestSecond401IsReturned(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	var calls atomic.Int64
	f.handle("GET /services/data/v67.0/limits", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(401)
		io.WriteString(w, `[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]`)
	})
	before := f.refreshCalls.Load()
	_, err := c.Limits(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != CodeInvalidSession {
		t.Fatalf("err = %v, want 401 INVALID_SESSION_ID", err)
	}
	if calls.Load() != 2 || f.refreshCalls.Load()-before != 1 {
		t.Fatalf("calls = %d, refreshes = %d; want 2 calls and 1 refresh", calls.Load(), f.refreshCalls.Load()-before)
	}
}

func TestGzipAndLimitInfoHooks(t *testing.T) {
	f := newFakeOrg(t)
	var mu sync.Mutex
	var limits []LimitInfo
	var calls []CallInfo
	c := f.client(t, func(cfg *Config) {
		cfg.Hooks.OnLimitInfo = func(li LimitInfo) { mu.Lock(); limits = append(limits, li); mu.Unlock() }
		cfg.Hooks.OnCall = func(ci CallInfo) { mu.Lock(); calls = append(calls, ci); mu.Unlock() }
	})
	f.handle("GET /services/data/v67.0/limits", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding = %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Sforce-Limit-Info", "api-usage=42/15000; api-bursts=3/750")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, `{"DailyApiRequests":{"Max":15000,"Remaining":14958},"Other":{"Max":5,"Remaining":4,"App":{"Max":1,"Remaining":1}}}`)
		zw.Close()
	})
	l, err := c.Limits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l["DailyApiRequests"] != (Limit{Max: 15000, Remaining: 14958}) || l["Other"].Max != 5 {
		t.Fatalf("limits = %+v", l)
	}
	mu.Lock()
	defer mu.Unlock()
	last := limits[len(limits)-1]
	if last.Used != 42 || last.Max != 15000 || last.BurstsUsed != 3 || last.BurstsMax != 750 {
		t.Fatalf("limit info = %+v", last)
	}
	if c.LastLimitInfo().Used != 42 {
		t.Fatalf("LastLimitInfo = %+v", c.LastLimitInfo())
	}
	lc := calls[len(calls)-1]
	if lc.Kind != KindREST || lc.Method != "GET" || lc.Path != "/services/data/v67.0/limits" || lc.Status != 200 {
		t.Fatalf("call info = %+v", lc)
	}
	sawToken := false
	for _, ci := range calls {
		if ci.Kind == KindOAuth && ci.Path == "/services/oauth2/token" {
			sawToken = true
		}
	}
	if !sawToken {
		t.Fatal("the token call was not reported to OnCall")
	}
}

func TestDoRefusesOtherHosts(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	_, err := c.Do(context.Background(), KindREST, "GET", "https://evil.example.com/services/data", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("err = %v, want refusal", err)
	}
}

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func leads(n int, key func(i int) string) []Record {
	rs := make([]Record, n)
	for i := range rs {
		rs[i] = Record{"LastName": fmt.Sprintf("L%04d", i), "Company": "Acme"}
		if key != nil {
			rs[i]["Ext_Id__c"] = key(i)
		}
	}
	return rs
}
