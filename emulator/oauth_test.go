package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// oauthServer starts an emulator for cfg on a loopback test server.
func oauthServer(t *testing.T, cfg Config) (*Emulator, *httptest.Server) {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

// noRedirect is a client that reports redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postForm posts form values and decodes the JSON answer.
func postForm(t *testing.T, client *http.Client, u string, form url.Values, basicID, basicSecret string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("POST %s: %d %q is not a JSON object: %v", u, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// getJSON GETs u with a bearer token and decodes the JSON answer.
func getJSON(t *testing.T, u, token string) (int, any) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var v any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %d %q: %v", u, resp.StatusCode, body, err)
	}
	return resp.StatusCode, v
}

// wantOAuthError checks an OAuth error answer.
func wantOAuthError(t *testing.T, status int, body map[string]any, wantStatus int, code, desc string) {
	t.Helper()
	if status != wantStatus || body["error"] != code || (desc != "" && body["error_description"] != desc) {
		t.Fatalf("got %d %v, want %d error=%s error_description=%q", status, body, wantStatus, code, desc)
	}
}

// checkTokenResponse checks the fields every token response has, and the
// signature with secret.
func checkTokenResponse(t *testing.T, srv *httptest.Server, e *Emulator, tok map[string]any, secret string) {
	t.Helper()
	if _, has := tok["expires_in"]; has {
		t.Errorf("token response has expires_in: %v", tok)
	}
	at, _ := tok["access_token"].(string)
	if !strings.HasPrefix(at, e.orgID()[:15]+"!") {
		t.Errorf("access_token %q does not start with the 15-char org id and !", at)
	}
	if tok["instance_url"] != srv.URL || tok["token_type"] != "Bearer" {
		t.Errorf("instance_url/token_type: %v", tok)
	}
	id, _ := tok["id"].(string)
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(srv.URL) + `/id/00D[0-9A-Za-z]{15}/005[0-9A-Za-z]{15}$`).MatchString(id) {
		t.Errorf("id %q is not an identity URL on the emulator", id)
	}
	issued, _ := tok["issued_at"].(string)
	ms, err := strconv.ParseInt(issued, 10, 64)
	if err != nil || ms < 1e12 {
		t.Errorf("issued_at %q is not a string of epoch milliseconds", issued)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + issued))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); tok["signature"] != want {
		t.Errorf("signature %v, want %s", tok["signature"], want)
	}
}

func TestPasswordGrant(t *testing.T) {
	e, srv := oauthServer(t, Config{})
	status, tok, hdr := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
		"username": {DefaultUsername}, "password": {DefaultPassword},
	}, "", "")
	if status != 200 {
		t.Fatalf("password grant: %d %v", status, tok)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	checkTokenResponse(t, srv, e, tok, DemoClientSecret)
	if _, has := tok["refresh_token"]; has {
		t.Errorf("password grant issued a refresh token")
	}

	status, body, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
		"username": {DefaultUsername}, "password": {"wrong"},
	}, "", "")
	wantOAuthError(t, status, body, 400, "invalid_grant", "authentication failure")
	if e.Stats()[KindOAuth] != 2 {
		t.Errorf("oauth calls counted: %v", e.Stats())
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	_, srv := oauthServer(t, Config{})
	tokenURL := srv.URL + "/services/oauth2/token"
	cases := []struct {
		name       string
		form       url.Values
		status     int
		code, desc string
	}{
		{"missing grant", url.Values{"client_id": {DemoClientID}}, 400, "invalid_request", "grant type is missing"},
		{"unknown grant", url.Values{"grant_type": {"magic"}}, 400, "unsupported_grant_type", "grant type not supported"},
		{"unknown client", url.Values{"grant_type": {"password"}, "client_id": {"nope"}, "username": {DefaultUsername}, "password": {DefaultPassword}},
			400, "invalid_client_id", "client identifier invalid"},
		{"bad secret", url.Values{"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {"x"}, "username": {DefaultUsername}, "password": {DefaultPassword}},
			400, "invalid_client", "invalid client credentials"},
		{"missing secret", url.Values{"grant_type": {"password"}, "client_id": {DemoClientID}, "username": {DefaultUsername}, "password": {DefaultPassword}},
			400, "invalid_client", "invalid client credentials"},
		{"bad refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "refresh_token": {"nope"}},
			400, "invalid_grant", "expired access/refresh token"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "code": {"nope"}, "redirect_uri": {"http://127.0.0.1/cb"}},
			400, "invalid_grant", "invalid authorization code"},
		{"no assertion", url.Values{"grant_type": {grantJWTBearer}}, 400, "invalid_request", ""},
		{"garbage assertion", url.Values{"grant_type": {grantJWTBearer}, "assertion": {"a.b"}}, 400, "invalid_grant", "invalid assertion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := postForm(t, nil, tokenURL, tc.form, "", "")
			wantOAuthError(t, status, body, tc.status, tc.code, tc.desc)
		})
	}

	// A JSON body carries no form parameters: the grant type is missing.
	resp, err := http.Post(tokenURL, "application/json", strings.NewReader(`{"grant_type":"password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	wantOAuthError(t, resp.StatusCode, body, 400, "invalid_request", "grant type is missing")

	// Parameters in the query string count, as on Salesforce.
	q := url.Values{"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
		"username": {DefaultUsername}, "password": {DefaultPassword}}
	resp, err = http.Post(tokenURL+"?"+q.Encode(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("query-string password grant: %d", resp.StatusCode)
	}

	// GET is not a token request.
	resp, err = http.Get(tokenURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET token: %d, want 405", resp.StatusCode)
	}
}

func TestClientCredentials(t *testing.T) {
	cfg := Config{
		Users: []UserConfig{{Username: "integration@forcesync.local", Password: "pw", LastName: "Integration"}},
		ConnectedApps: []ConnectedApp{
			{ClientID: "cc-app", ClientSecret: "cc secret/+", RunAs: "integration@forcesync.local"},
		},
	}
	e, srv := oauthServer(t, cfg)
	tokenURL := srv.URL + "/services/oauth2/token"

	// HTTP Basic, with characters that need URL-encoding.
	status, tok, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "cc-app", "cc secret/+")
	if status != 200 {
		t.Fatalf("client credentials (basic): %d %v", status, tok)
	}
	checkTokenResponse(t, srv, e, tok, "cc secret/+")
	if _, has := tok["refresh_token"]; has {
		t.Error("client credentials issued a refresh token")
	}
	if tok["scope"] != "api" {
		t.Errorf("scope %v, want api", tok["scope"])
	}
	_, info := getJSON(t, srv.URL+"/services/oauth2/userinfo", tok["access_token"].(string))
	if got := info.(map[string]any)["preferred_username"]; got != "integration@forcesync.local" {
		t.Errorf("client credentials ran as %v, want the app's run-as user", got)
	}

	// Form credentials; the demo app runs as the admin.
	status, tok, _ = postForm(t, nil, tokenURL, url.Values{"grant_type": {"client_credentials"},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
	if status != 200 {
		t.Fatalf("client credentials (form): %d %v", status, tok)
	}
	_, info = getJSON(t, srv.URL+"/services/oauth2/userinfo", tok["access_token"].(string))
	if got := info.(map[string]any)["preferred_username"]; got != DefaultUsername {
		t.Errorf("demo app ran as %v", got)
	}

	status, body, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"client_credentials"}}, "cc-app", "wrong")
	wantOAuthError(t, status, body, 400, "invalid_client", "invalid client credentials")
	status, body, _ = postForm(t, nil, tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {CLIClientID}}, "", "")
	wantOAuthError(t, status, body, 400, "invalid_client", "")

	// On a login host the flow is refused, as Salesforce refuses it off My Domain.
	for _, base := range []string{"https://login.salesforce.com", "https://test.salesforce.com/"} {
		_, srv2 := oauthServer(t, Config{BaseURL: base})
		status, body, _ = postForm(t, nil, srv2.URL+"/services/oauth2/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
		wantOAuthError(t, status, body, 400, "invalid_grant", "request not supported on this domain")
	}
}

func TestRefreshAfterInactivityAndRevoke(t *testing.T) {
	clock := newFakeClock()
	e, srv := oauthServer(t, Config{Now: clock.Now, SessionTimeout: 30 * time.Minute, AutoApprove: true})
	redirect := "http://127.0.0.1:1717/OauthRedirect"
	code := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "scope": {"api"}})
	tokenURL := srv.URL + "/services/oauth2/token"
	status, tok, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "redirect_uri": {redirect}}, "", "")
	if status != 200 {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	checkTokenResponse(t, srv, e, tok, DemoClientSecret)
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("the demo app gets a refresh token whatever the scope: %v", tok)
	}
	at := tok["access_token"].(string)
	userinfo := srv.URL + "/services/oauth2/userinfo"
	if s, _ := getJSON(t, userinfo, at); s != 200 {
		t.Fatalf("fresh token: %d", s)
	}
	// Use keeps the session alive; inactivity ends it.
	clock.Advance(20 * time.Minute)
	if s, _ := getJSON(t, userinfo, at); s != 200 {
		t.Fatalf("token used within the timeout: %d", s)
	}
	clock.Advance(31 * time.Minute)
	s, body := getJSON(t, userinfo, at)
	want := []any{map[string]any{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}}
	if s != 401 || !jsonEqual(body, want) {
		t.Fatalf("expired token: %d %v", s, body)
	}

	status, tok2, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	checkTokenResponse(t, srv, e, tok2, DemoClientSecret)
	if _, has := tok2["refresh_token"]; has {
		t.Errorf("refresh response carries a new refresh token: %v", tok2)
	}
	at2 := tok2["access_token"].(string)
	if s, _ := getJSON(t, userinfo, at2); s != 200 {
		t.Fatalf("refreshed token: %d", s)
	}
	// Another app cannot use this refresh token.
	status, body2, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {CLIClientID}}, "", "")
	wantOAuthError(t, status, body2, 400, "invalid_grant", "expired access/refresh token")

	// Revoking the refresh token ends the access tokens it minted.
	revoke := srv.URL + "/services/oauth2/revoke"
	status, body2, _ = postForm(t, nil, revoke, url.Values{"token": {rt}}, "", "")
	if status != 200 || body2 != nil {
		t.Fatalf("revoke: %d %v", status, body2)
	}
	if s, _ := getJSON(t, userinfo, at2); s != 401 {
		t.Errorf("access token of a revoked refresh token still works: %d", s)
	}
	status, body2, _ = postForm(t, nil, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
	wantOAuthError(t, status, body2, 400, "invalid_grant", "expired access/refresh token")
	status, body2, _ = postForm(t, nil, revoke, url.Values{"token": {rt}}, "", "")
	wantOAuthError(t, status, body2, 400, "invalid_token", "")
	status, body2, _ = postForm(t, nil, revoke, url.Values{}, "", "")
	wantOAuthError(t, status, body2, 400, "unsupported_token_type", "")

	// GET ?token= revokes an access token alone.
	_, tok3, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"password"}, "client_id": {DemoClientID},
		"client_secret": {DemoClientSecret}, "username": {DefaultUsername}, "password": {DefaultPassword}}, "", "")
	at3 := tok3["access_token"].(string)
	resp, err := http.Get(revoke + "?token=" + url.QueryEscape(at3))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET revoke: %d", resp.StatusCode)
	}
	if s, _ := getJSON(t, userinfo, at3); s != 401 {
		t.Errorf("revoked access token still works: %d", s)
	}
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// authorizeCode runs an auto-approved authorize request and returns the code.
func authorizeCode(t *testing.T, base string, q url.Values) string {
	t.Helper()
	if q.Get("response_type") == "" {
		q.Set("response_type", "code")
	}
	resp, err := noRedirect().Get(base + "/services/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 {
		t.Fatalf("authorize: %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), q.Get("redirect_uri")) {
		t.Fatalf("redirected to %s, want %s", loc, q.Get("redirect_uri"))
	}
	if q.Get("state") != loc.Query().Get("state") {
		t.Fatalf("state %q came back as %q", q.Get("state"), loc.Query().Get("state"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", loc)
	}
	return code
}

// BenchmarkPasswordGrant measures a full token call over loopback HTTP.
func BenchmarkPasswordGrant(b *testing.B) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	form := url.Values{"grant_type": {"password"}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret},
		"username": {DefaultUsername}, "password": {DefaultPassword}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Post(srv.URL+"/services/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkAuthenticate measures the bearer-token check every API call pays.
func BenchmarkAuthenticate(b *testing.B) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	e.mu.Lock()
	s := e.newSessionLocked(DemoClientID, e.adminUserIDLocked(), DefaultUsername, defaultScopes, "")
	e.mu.Unlock()
	req := httptest.NewRequest("GET", "/services/data/v65.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.authenticate(req); !ok {
			b.Fatal("not authenticated")
		}
	}
}

func TestIdleSessionsAreSwept(t *testing.T) {
	clock := newFakeClock()
	e, err := New(Config{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for range 1000 {
		e.newSessionLocked(DemoClientID, e.adminUserIDLocked(), DefaultUsername, defaultScopes, "")
	}
	clock.Advance(3 * time.Hour)
	for range 100 {
		e.newSessionLocked(DemoClientID, e.adminUserIDLocked(), DefaultUsername, defaultScopes, "")
	}
	if n := len(e.sessions); n > 100 {
		t.Errorf("%d sessions left, want the 1000 idle ones swept", n)
	}
}
