package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/emulator"
)

// oidcRig is a console whose OIDC provider is the emulator, on loopback:
// Salesforce is an OpenID Connect provider, so the emulator is one too.
type oidcRig struct {
	*fixture
	sf *httptest.Server
}

const consoleBase = "http://127.0.0.1:8080" // the browser's view of the console

func newOIDCRig(t *testing.T, o console.OIDC) *oidcRig {
	t.Helper()
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)
	f := newFixture(t)
	o.Issuer, o.ClientID, o.Name = sf.URL, emulator.DemoClientID, "Salesforce"
	c, err := console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now, Admins: f.admins, OIDC: &o})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return &oidcRig{fixture: f, sf: sf}
}

// start asks the console to sign in with OIDC: it returns the provider's
// authorize URL and the console's browser-binding cookie.
func (r *oidcRig) start(next string) (*url.URL, *http.Cookie) {
	r.t.Helper()
	res := r.do("GET", consoleBase+"/login/oidc?next="+url.QueryEscape(next), nil, nil, nil)
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), r.sf.URL+"/services/oauth2/authorize?") {
		r.t.Fatalf("start: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "forcesync_oidc" {
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				r.t.Errorf("binding cookie %+v", ck)
			}
			return loc, ck
		}
	}
	r.t.Fatal("no browser-binding cookie")
	return nil, nil
}

// approve has the emulator approve at once as its admin and returns the
// callback URL it sends the browser to.
func (r *oidcRig) approve(auth *url.URL) string {
	r.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(auth.String() + "&auto_approve=true")
	if err != nil {
		r.t.Fatal(err)
	}
	res.Body.Close()
	cb := res.Header.Get("Location")
	if !strings.HasPrefix(cb, consoleBase+"/login/oidc/callback?") {
		r.t.Fatalf("the emulator answered %d %q", res.StatusCode, cb)
	}
	return cb
}

func sessionCookie(res *http.Response) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == "forcesync_session" && ck.Value != "" {
			return ck
		}
	}
	return nil
}

// TestOIDCSignIn signs in with the emulator as the OpenID provider over
// real HTTP: discovery, the authorize request with nonce and PKCE, the
// code exchange, the id_token verified against the JWKS, a session for
// the verified email. The callback is answered once and only in the
// browser that started it.
func TestOIDCSignIn(t *testing.T) {
	r := newOIDCRig(t, console.OIDC{AllowedDomains: []string{"forcesync.local"}, PKCE: true})
	page := body(t, r.do("GET", "/login", nil, nil, nil))
	if !strings.Contains(page, `id="oidc" href="/login/oidc?next=%2F"`) || !strings.Contains(page, "Sign in with Salesforce") {
		t.Fatalf("login page lacks the OIDC button:\n%s", page)
	}
	auth, bind := r.start("/records")
	q := auth.Query()
	if q.Get("scope") != "openid email profile" || q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("redirect_uri") != consoleBase+"/login/oidc/callback" || q.Get("state") == "" {
		t.Fatalf("authorize request %v", q)
	}
	cb := r.approve(auth)
	// Another browser (no binding cookie) cannot use the answer...
	if res := r.do("GET", cb, nil, nil, nil); res.StatusCode != http.StatusBadRequest || sessionCookie(res) != nil {
		t.Fatalf("callback without the binding cookie: %d", res.StatusCode)
	}
	// ...and that try used the flow up: a callback is answered once.
	if res := r.do("GET", cb, nil, bind, nil); res.StatusCode != http.StatusBadRequest || sessionCookie(res) != nil {
		t.Fatalf("a second callback: %d", res.StatusCode)
	}
	auth, bind = r.start("/records")
	res := r.do("GET", r.approve(auth), nil, bind, nil)
	ck := sessionCookie(res)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/records" || ck == nil {
		t.Fatalf("callback: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	res = r.do("GET", "/records", nil, ck, nil)
	if page := body(t, res); res.StatusCode != http.StatusOK || !strings.Contains(page, `<span class="who">admin@forcesync.local</span>`) {
		t.Fatalf("signed in with OIDC: %d\n%s", res.StatusCode, page)
	}
}

// TestOIDCRefusals: an email the config does not allow is refused; with
// PKCE off, the answer of one sign-in cannot finish another (the nonce of
// the id_token is checked), and the authorize request has no challenge.
func TestOIDCRefusals(t *testing.T) {
	r := newOIDCRig(t, console.OIDC{AllowedEmails: []string{"ada@example.com"}, PKCE: true})
	auth, bind := r.start("/")
	res := r.do("GET", r.approve(auth), nil, bind, nil)
	if page := body(t, res); res.StatusCode != http.StatusForbidden || sessionCookie(res) != nil || !strings.Contains(page, "admin@forcesync.local is not allowed") {
		t.Fatalf("an email not allowed: %d\n%s", res.StatusCode, page)
	}

	r = newOIDCRig(t, console.OIDC{AllowedDomains: []string{"forcesync.local"}, ClientSecret: emulator.DemoClientSecret})
	authA, _ := r.start("/")
	if authA.Query().Get("code_challenge") != "" {
		t.Fatalf("pkce off still sends a challenge: %v", authA.Query())
	}
	authB, bindB := r.start("/")
	cbA, _ := url.Parse(r.approve(authA))
	mixed := cbA.Query()
	mixed.Set("state", authB.Query().Get("state")) // A's code, B's state and browser
	res = r.do("GET", consoleBase+"/login/oidc/callback?"+mixed.Encode(), nil, bindB, nil)
	if page := body(t, res); res.StatusCode != http.StatusUnauthorized || sessionCookie(res) != nil || !strings.Contains(page, "nonce") {
		t.Fatalf("another sign-in's code: %d\n%s", res.StatusCode, page)
	}
	// The provider's refusal is shown, not signed in.
	authC, bindC := r.start("/")
	res = r.do("GET", consoleBase+"/login/oidc/callback?"+url.Values{"state": {authC.Query().Get("state")}, "error": {"access_denied"},
		"error_description": {"end-user denied authorization"}}.Encode(), nil, bindC, nil)
	if page := body(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "access_denied") {
		t.Fatalf("a refusal: %d\n%s", res.StatusCode, page)
	}
}
