package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// callback is a loopback OAuth redirect target recording what it receives.
type callback struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
}

func newCallback(t *testing.T) *callback {
	cb := &callback{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.mu.Lock()
		cb.got = append(cb.got, r.URL.Query())
		cb.mu.Unlock()
		io.WriteString(w, "You can close this window.")
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) last(t *testing.T) url.Values {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.got) == 0 {
		t.Fatal("callback never called")
	}
	return cb.got[len(cb.got)-1]
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formRE   = regexp.MustCompile(`<form method="post" action="([^"]+)" id="(\w+)">`)
)

// formValues returns the hidden fields of the page's form and its id.
func formValues(t *testing.T, page string) (url.Values, string) {
	t.Helper()
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page:\n%s", page)
	}
	v := url.Values{}
	for _, h := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return v, m[2]
}

func readPage(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// pkcePair returns a verifier and its S256 challenge.
func pkcePair() (string, string) {
	v := oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorizeBrowserFlow(t *testing.T) {
	e, srv := oauthServer(t, Config{Users: []UserConfig{{Username: "jane@example.com", Password: "janepw", FirstName: "Jane", LastName: "Doe"}}})
	cb := newCallback(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	verifier, challenge := pkcePair()
	q := url.Values{"response_type": {"code"}, "client_id": {CLIClientID}, "redirect_uri": {cb.srv.URL + "/OauthRedirect"},
		"state": {"xyz&1"}, "scope": {"api refresh_token openid"}, "code_challenge": {challenge}}
	authorizeURL := srv.URL + "/services/oauth2/authorize?" + q.Encode()

	// 1. The login page.
	resp, err := browser.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	form, id := formValues(t, page)
	if id != "login" || form.Get("client_id") != CLIClientID || form.Get("state") != "xyz&1" {
		t.Fatalf("login form %s: %v", id, form)
	}

	// 2. A wrong password shows the page again with an error.
	form.Set("username", "jane@example.com")
	form.Set("password", "nope")
	resp, err = browser.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	page = readPage(t, resp)
	if !strings.Contains(page, "Please check your username and password") {
		t.Fatalf("wrong password page:\n%s", page)
	}

	// 3. The right one leads to the approve page.
	form, _ = formValues(t, page)
	form.Set("username", "jane@example.com")
	form.Set("password", "janepw")
	resp, err = browser.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	page = readPage(t, resp)
	form, id = formValues(t, page)
	if id != "approve" || !strings.Contains(page, "Allow Access?") || !strings.Contains(page, "jane@example.com") {
		t.Fatalf("approve page:\n%s", page)
	}

	// 4. Allow: the browser follows the redirect to the loopback callback.
	form.Set("decision", "allow")
	resp, err = browser.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp)
	got := cb.last(t)
	if got.Get("state") != "xyz&1" || got.Get("code") == "" {
		t.Fatalf("callback got %v", got)
	}

	// 5. The code, with the verifier and no secret (public client).
	tokenURL := srv.URL + "/services/oauth2/token"
	status, tok, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"client_id": {CLIClientID}, "redirect_uri": {cb.srv.URL + "/OauthRedirect"}, "code_verifier": {verifier}}, "", "")
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	checkTokenResponse(t, srv, e, tok, "")
	if tok["scope"] != "api refresh_token openid" || tok["refresh_token"] == nil || tok["id_token"] == nil {
		t.Errorf("token response: %v", tok)
	}
	checkIDToken(t, srv, tok["id_token"].(string), CLIClientID, tok["id"].(string))
	_, info := getJSON(t, srv.URL+"/services/oauth2/userinfo", tok["access_token"].(string))
	if info.(map[string]any)["preferred_username"] != "jane@example.com" {
		t.Errorf("logged in as %v", info)
	}

	// 6. Codes are single use.
	status, body, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"client_id": {CLIClientID}, "redirect_uri": {cb.srv.URL + "/OauthRedirect"}, "code_verifier": {verifier}}, "", "")
	wantOAuthError(t, status, body, 400, "invalid_grant", "invalid authorization code")

	// 7. The browser is logged in and approved the app: the next authorize
	// comes straight back with a code.
	resp, err = browser.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp)
	if next := cb.last(t).Get("code"); next == "" || next == got.Get("code") {
		t.Errorf("second authorize: %v", cb.last(t))
	}

	// 8. prompt=consent shows the approve page again; Deny sends access_denied.
	resp, err = browser.Get(authorizeURL + "&prompt=consent")
	if err != nil {
		t.Fatal(err)
	}
	form, id = formValues(t, readPage(t, resp))
	if id != "approve" {
		t.Fatalf("prompt=consent showed %s", id)
	}
	form.Set("decision", "deny")
	resp, err = browser.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	readPage(t, resp)
	if d := cb.last(t); d.Get("error") != "access_denied" || d.Get("error_description") == "" || d.Get("state") != "xyz&1" || d.Get("code") != "" {
		t.Errorf("deny: %v", d)
	}

	// 9. An approve form from another browser (no login cookie) is not honoured.
	form.Set("decision", "allow")
	resp, err = http.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	if _, id := formValues(t, readPage(t, resp)); id != "login" {
		t.Errorf("foreign approve form led to %s", id)
	}
}

// checkIDToken verifies an id_token against the emulator's JWKS.
func checkIDToken(t *testing.T, srv *httptest.Server, idToken, clientID, identity string) {
	t.Helper()
	_, jwks := getJSON(t, srv.URL+"/id/keys", "")
	keys := jwks.(map[string]any)["keys"].([]any)
	k := keys[0].(map[string]any)
	nb, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
	eb, _ := base64.RawURLEncoding.DecodeString(k["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	payload, err := verifyRS256(idToken, pub)
	if err != nil {
		t.Fatalf("id_token does not verify with /id/keys: %v", err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	if claims["aud"] != clientID || claims["sub"] != identity || claims["iss"] != srv.URL {
		t.Errorf("id_token claims %v", claims)
	}
}

func TestAuthorizeErrorsShownOnPage(t *testing.T) {
	_, srv := oauthServer(t, Config{ConnectedApps: []ConnectedApp{{ClientID: "fixed", ClientSecret: "s", RedirectURIs: []string{"https://app.example.com/cb"}}}})
	cases := []struct {
		name string
		q    url.Values
		want string
	}{
		{"unknown client", url.Values{"response_type": {"code"}, "client_id": {"nope"}, "redirect_uri": {"http://127.0.0.1/cb"}},
			"error=invalid_client_id&amp;error_description=client identifier invalid"},
		{"non-loopback redirect", url.Values{"response_type": {"code"}, "client_id": {DemoClientID}, "redirect_uri": {"https://evil.example.com/cb"}},
			"error=redirect_uri_mismatch"},
		{"unregistered redirect", url.Values{"response_type": {"code"}, "client_id": {"fixed"}, "redirect_uri": {"http://127.0.0.1/cb"}},
			"error=redirect_uri_mismatch"},
		{"missing redirect", url.Values{"response_type": {"code"}, "client_id": {DemoClientID}}, "error=redirect_uri_mismatch"},
	}
	for _, tc := range cases {
		resp, err := noRedirect().Get(srv.URL + "/services/oauth2/authorize?" + tc.q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readPage(t, resp)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d %q\n%s", tc.name, resp.StatusCode, resp.Header.Get("Location"), page)
		}
	}
	// Errors once the redirect URI is trusted go back to it.
	for _, tc := range []struct{ q, code string }{
		{"response_type=bogus", "unsupported_response_type"},
		{"response_type=code&code_challenge_method=S512&code_challenge=" + strings.Repeat("a", 43), "invalid_request"},
		{"response_type=code&code_challenge=short", "invalid_request"},
	} {
		resp, err := noRedirect().Get(srv.URL + "/services/oauth2/authorize?client_id=fixed&redirect_uri=" +
			url.QueryEscape("https://app.example.com/cb") + "&state=st&" + tc.q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("error") != tc.code || loc.Query().Get("state") != "st" {
			t.Errorf("%s: %d %s", tc.q, resp.StatusCode, loc)
		}
	}
}

func TestPKCE(t *testing.T) {
	clock := newFakeClock()
	_, srv := oauthServer(t, Config{AutoApprove: true, Now: clock.Now})
	redirect := "http://localhost:1717/OauthRedirect"
	tokenURL := srv.URL + "/services/oauth2/token"
	exchange := func(code, verifier string) (int, map[string]any) {
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {CLIClientID}, "redirect_uri": {redirect}}
		if verifier != "" {
			f.Set("code_verifier", verifier)
		}
		s, b, _ := postForm(t, nil, tokenURL, f, "", "")
		return s, b
	}
	verifier, challenge := pkcePair()
	code := func(extra url.Values) string {
		q := url.Values{"client_id": {CLIClientID}, "redirect_uri": {redirect}}
		for k, v := range extra {
			q[k] = v
		}
		return authorizeCode(t, srv.URL, q)
	}

	// S256 is the default method.
	if s, b := exchange(code(url.Values{"code_challenge": {challenge}}), verifier); s != 200 {
		t.Fatalf("S256 default: %d %v", s, b)
	}
	s, b := exchange(code(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}), verifier+"x")
	wantOAuthError(t, s, b, 400, "invalid_request", "invalid code verifier")
	s, b = exchange(code(url.Values{"code_challenge": {challenge}}), "")
	wantOAuthError(t, s, b, 400, "invalid_grant", "")
	// plain compares the verifier itself.
	if s, b := exchange(code(url.Values{"code_challenge": {verifier}, "code_challenge_method": {"plain"}}), verifier); s != 200 {
		t.Fatalf("plain: %d %v", s, b)
	}
	// Without PKCE a confidential app must send its secret.
	c := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}})
	s, b, _ = postForm(t, nil, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "client_id": {DemoClientID}, "redirect_uri": {redirect}}, "", "")
	wantOAuthError(t, s, b, 400, "invalid_client", "")
	// The redirect URI must be the authorize request's.
	c = authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}})
	s, b, _ = postForm(t, nil, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {c}, "client_id": {DemoClientID},
		"client_secret": {DemoClientSecret}, "redirect_uri": {"http://localhost:1717/other"}}, "", "")
	wantOAuthError(t, s, b, 400, "invalid_grant", "")
	// Codes expire after 15 minutes.
	c = code(url.Values{"code_challenge": {challenge}})
	clock.Advance(15*time.Minute + time.Second)
	s, b = exchange(c, verifier)
	wantOAuthError(t, s, b, 400, "invalid_grant", "expired authorization code")
}

func TestAutoApproveLoginHint(t *testing.T) {
	_, srv := oauthServer(t, Config{Users: []UserConfig{{Username: "bob@example.com", Password: "bobpw"}}})
	redirect := "http://127.0.0.1:9/cb"
	// Per request: auto_approve=true with login_hint picks the user.
	c := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "state": {"s"},
		"auto_approve": {"true"}, "login_hint": {"bob@example.com"}})
	_, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"redirect_uri": {redirect}}, DemoClientID, DemoClientSecret)
	_, info := getJSON(t, srv.URL+"/services/oauth2/userinfo", tok["access_token"].(string))
	if info.(map[string]any)["preferred_username"] != "bob@example.com" {
		t.Errorf("auto-approved as %v", info)
	}
	// Without auto-approve the same request shows the login page, prefilled.
	resp, err := noRedirect().Get(srv.URL + "/services/oauth2/authorize?" + url.Values{"response_type": {"code"},
		"client_id": {DemoClientID}, "redirect_uri": {redirect}, "login_hint": {"bob@example.com"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if page := readPage(t, resp); resp.StatusCode != 200 || !strings.Contains(page, `value="bob@example.com" autocomplete="username"`) {
		t.Errorf("login page %d:\n%s", resp.StatusCode, page)
	}
	// An unknown login_hint is refused.
	resp, err = noRedirect().Get(srv.URL + "/services/oauth2/authorize?" + url.Values{"response_type": {"code"},
		"client_id": {DemoClientID}, "redirect_uri": {redirect}, "login_hint": {"ghost@example.com"}, "auto_approve": {"1"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "access_denied" {
		t.Errorf("unknown login_hint: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestGoOAuth2Client drives the emulator with golang.org/x/oauth2: the
// authorize URL with PKCE, the code exchange and a refresh.
func TestGoOAuth2Client(t *testing.T) {
	_, srv := oauthServer(t, Config{AutoApprove: true})
	cb := newCallback(t)
	conf := &oauth2.Config{
		ClientID: DemoClientID, ClientSecret: DemoClientSecret, RedirectURL: cb.srv.URL + "/callback",
		Scopes:   []string{"api", "refresh_token"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/services/oauth2/authorize", TokenURL: srv.URL + "/services/oauth2/token"},
	}
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf.Endpoint.AuthStyle = style
		verifier := oauth2.GenerateVerifier()
		resp, err := http.Get(conf.AuthCodeURL("st8", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := cb.last(t)
		if got.Get("state") != "st8" {
			t.Fatalf("callback %v", got)
		}
		tok, err := conf.Exchange(context.Background(), got.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange (style %d): %v", style, err)
		}
		if tok.RefreshToken == "" || tok.Extra("instance_url") != srv.URL || !tok.Expiry.IsZero() {
			t.Fatalf("token: %+v instance_url=%v", tok, tok.Extra("instance_url"))
		}
		// Force a refresh through the token source.
		stale := &oauth2.Token{AccessToken: "x", RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
		fresh, err := conf.TokenSource(context.Background(), stale).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
			t.Errorf("refreshed token %+v", fresh)
		}
		if s, _ := getJSON(t, srv.URL+"/services/oauth2/userinfo", fresh.AccessToken); s != 200 {
			t.Errorf("refreshed token refused: %d", s)
		}
	}
	// A wrong secret surfaces as an oauth2.RetrieveError with Salesforce's code.
	conf.ClientSecret = "wrong"
	_, err := conf.PasswordCredentialsToken(context.Background(), DefaultUsername, DefaultPassword)
	var re *oauth2.RetrieveError
	if !errorsAs(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}
}

// --- JWT bearer --------------------------------------------------------------------

// jwtKeyPair makes an RSA key and a self-signed certificate for it (PEM).
func jwtKeyPair(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jwt-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// signAssertion builds an RS256 JWT of claims.
func signAssertion(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(map[string]string{"alg": "RS256"})
	pb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, 5, sum[:]) // 5 = crypto.SHA256
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestJWTBearer(t *testing.T) {
	key, certPEM := jwtKeyPair(t)
	otherKey, _ := jwtKeyPair(t)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	clock := newFakeClock()
	e, srv := oauthServer(t, Config{Now: clock.Now,
		Users: []UserConfig{{Username: "ci@example.com", Password: "x"}, {Username: "other@example.com", Password: "y"}},
		ConnectedApps: []ConnectedApp{
			{ClientID: "jwt-app", Certificate: certPEM, PreAuthorized: []string{"ci@example.com"}},
			{ClientID: "jwt-pubkey", Certificate: pubPEM},
		}})
	now := clock.Now()
	tokenURL := srv.URL + "/services/oauth2/token"
	grant := func(assertion string) (int, map[string]any) {
		s, b, _ := postForm(t, nil, tokenURL, url.Values{"grant_type": {grantJWTBearer}, "assertion": {assertion}}, "", "")
		return s, b
	}
	claims := func(iss, sub, aud string, exp int64) map[string]any {
		return map[string]any{"iss": iss, "sub": sub, "aud": aud, "exp": exp}
	}
	okCases := []map[string]any{
		claims("jwt-app", "ci@example.com", "https://login.salesforce.com", now.Add(3*time.Minute).Unix()),
		claims("jwt-app", "ci@example.com", "https://test.salesforce.com/", now.Add(3*time.Minute).Unix()),
		claims("jwt-app", "ci@example.com", srv.URL, now.Add(3*time.Minute).Unix()),
		claims("jwt-app", "ci@example.com", srv.URL+"/", now.Add(3*time.Minute).UnixMilli()), // the sf CLI's milliseconds
		claims("jwt-pubkey", "other@example.com", srv.URL, now.Add(time.Minute).Unix()),      // no pre-authorized list: everyone
		// simple-salesforce (login.py) sends exp as a string of digits.
		{"iss": "jwt-app", "sub": "ci@example.com", "aud": "https://login.salesforce.com", "exp": strconv.FormatInt(now.Add(3*time.Minute).Unix(), 10)},
	}
	for i, c := range okCases {
		s, tok := grant(signAssertion(t, key, c))
		if s != 200 {
			t.Fatalf("case %d: %d %v", i, s, tok)
		}
		checkTokenResponse(t, srv, e, tok, "")
		if _, has := tok["refresh_token"]; has {
			t.Errorf("JWT bearer issued a refresh token")
		}
	}
	bad := []struct {
		name        string
		assertion   string
		code, descr string
	}{
		{"expired", signAssertion(t, key, claims("jwt-app", "ci@example.com", srv.URL, now.Add(-time.Second).Unix())), "invalid_grant", "expired authorization code"},
		{"expired ms", signAssertion(t, key, claims("jwt-app", "ci@example.com", srv.URL, now.Add(-time.Second).UnixMilli())), "invalid_grant", "expired authorization code"},
		{"audience", signAssertion(t, key, claims("jwt-app", "ci@example.com", "https://evil.example.com", now.Add(time.Minute).Unix())), "invalid_grant", "audience is invalid"},
		{"not pre-authorized", signAssertion(t, key, claims("jwt-app", "other@example.com", srv.URL, now.Add(time.Minute).Unix())), "invalid_grant", "user hasn't approved this consumer"},
		{"unknown user", signAssertion(t, key, claims("jwt-app", "ghost@example.com", srv.URL, now.Add(time.Minute).Unix())), "invalid_grant", "user hasn't approved this consumer"},
		{"unknown issuer", signAssertion(t, key, claims("nope", "ci@example.com", srv.URL, now.Add(time.Minute).Unix())), "invalid_client_id", "client identifier invalid"},
		{"wrong key", signAssertion(t, otherKey, claims("jwt-app", "ci@example.com", srv.URL, now.Add(time.Minute).Unix())), "invalid_client", "invalid client credentials"},
		{"app without certificate", signAssertion(t, key, claims(DemoClientID, DefaultUsername, srv.URL, now.Add(time.Minute).Unix())), "invalid_client", ""},
		{"no exp", signAssertion(t, key, map[string]any{"iss": "jwt-app", "sub": "ci@example.com", "aud": srv.URL}), "invalid_grant", "invalid assertion"},
	}
	for _, tc := range bad {
		s, b := grant(tc.assertion)
		if s != 400 || b["error"] != tc.code || (tc.descr != "" && b["error_description"] != tc.descr) {
			t.Errorf("%s: %d %v, want %s %q", tc.name, s, b, tc.code, tc.descr)
		}
	}
	// A tampered payload no longer verifies.
	good := signAssertion(t, key, okCases[0])
	parts := strings.Split(good, ".")
	pb, _ := json.Marshal(claims("jwt-app", "other@example.com", "https://login.salesforce.com", now.Add(time.Minute).Unix()))
	s, b := grant(parts[0] + "." + base64.RawURLEncoding.EncodeToString(pb) + "." + parts[2])
	wantOAuthError(t, s, b, 400, "invalid_client", "")
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
