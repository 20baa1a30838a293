package emulator

// Regressions found by driving the emulator with real clients (jsforce and
// the sf CLI, see scripts/clients-check). Each test replays, over HTTP, the
// exchange that made the client fail.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// sfdxAuthURL is how the sf CLI (@salesforce/core AuthInfo.parseSfdxAuthUrl)
// splits force://clientId:clientSecret:refreshToken@host; a refresh token with
// any other character makes `sf org login sfdx-url` fail with INVALID_SFDX_AUTH_URL.
var sfdxAuthURL = regexp.MustCompile(`^force://([a-zA-Z0-9._-]+={0,2}):([a-zA-Z0-9._-]*={0,2}):([a-zA-Z0-9._-]+={0,2})@([a-zA-Z0-9:._-]+)$`)

func TestClientsRefreshTokenFitsSfdxAuthURL(t *testing.T) {
	em, err := New(Config{AutoApprove: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	const redirect = "http://localhost:1717/OauthRedirect"
	resp, err := noRedirect.Get(srv.URL + "/services/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {"forcesync-demo"}, "redirect_uri": {redirect},
	}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	tok := clientsPostToken(t, srv.URL, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
	})
	refresh, _ := tok["refresh_token"].(string)
	if refresh == "" {
		t.Fatalf("code grant gave no refresh_token: %v", tok)
	}
	authURL := "force://forcesync-demo:forcesync-demo-secret:" + refresh + "@" + strings.TrimPrefix(srv.URL, "http://")
	if !sfdxAuthURL.MatchString(authURL) {
		t.Fatalf("refresh token %q does not fit the sf CLI's sfdx auth URL syntax", refresh)
	}
	// The token still works as a refresh token.
	again := clientsPostToken(t, srv.URL, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh},
		"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
	})
	if again["access_token"] == nil || again["access_token"] == "" {
		t.Fatalf("refresh grant: %v", again)
	}
}

func clientsPostToken(t *testing.T, base string, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(base+"/services/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token %s: %d %v", form.Get("grant_type"), resp.StatusCode, out)
	}
	return out
}

// The sf CLI saves an access-token login's instance URL with a trailing slash
// and then asks for "//services/data/...". Those must be served in place: a
// redirect (ServeMux's default for unclean paths) carries a relative Location
// the CLI fails on with "Failed to parse URL from /services/data".
func TestClientsDoubleSlashAfterInstanceURL(t *testing.T) {
	em, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	tok := clientsPostToken(t, srv.URL, url.Values{
		"grant_type": {"password"}, "client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
		"username": {"admin@forcesync.local"}, "password": {"forcesync"},
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"//services/data", "//services/data/v50.0/limits", "///services/data/v62.0/query?q=SELECT+Id+FROM+User"} {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body any
		derr := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || derr != nil {
			t.Errorf("GET %s: %d (%v), want 200 with JSON", path, resp.StatusCode, derr)
		}
	}
}

// jsforce's conn.login(username, password), without an OAuth2 client, logs
// in through the SOAP partner API and reads serverUrl, sessionId, userId and
// organizationId from the response; conn.logout() then posts a SOAP logout.
func TestClientsSOAPLoginLogout(t *testing.T) {
	em, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = em.Close() })
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	soap := func(body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+"/services/Soap/u/50.0", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/xml")
		req.Header.Set("SOAPAction", `""`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	login := func(user, pw string) (int, string) {
		return soap(`<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>` +
			`<login xmlns="urn:partner.soap.sforce.com"><username>` + user + `</username><password>` + pw + `</password></login>` +
			`</se:Body></se:Envelope>`)
	}
	grab := func(body, tag string) string {
		m := regexp.MustCompile(`<` + tag + `>([^<]+)</` + tag + `>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}

	code, body := login("admin@forcesync.local", "forcesync")
	if code != http.StatusOK {
		t.Fatalf("login: %d %s", code, body)
	}
	sid, server := grab(body, "sessionId"), grab(body, "serverUrl")
	if sid == "" || !strings.HasPrefix(server, srv.URL+"/services/Soap/u/50.0/00D") ||
		!strings.HasPrefix(grab(body, "userId"), "005") || !strings.HasPrefix(grab(body, "organizationId"), "00D") {
		t.Fatalf("login response lacks session facts: %s", body)
	}
	// The session id is a REST bearer token.
	get := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/services/data/v50.0/limits", nil)
		req.Header.Set("Authorization", "Bearer "+sid)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(); st != http.StatusOK {
		t.Fatalf("REST with the SOAP session: %d", st)
	}

	if code, body := login("admin@forcesync.local", "nope"); code != http.StatusInternalServerError || grab(body, "faultstring") == "" || !strings.Contains(body, "INVALID_LOGIN") {
		t.Errorf("bad password: %d %s, want a 500 INVALID_LOGIN fault", code, body)
	}
	if code, body := soap("not xml <<"); code != http.StatusInternalServerError || !strings.Contains(body, "<faultstring>") {
		t.Errorf("garbage: %d %s, want a 500 fault", code, body)
	}

	logout := `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header><SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>` +
		sid + `</sessionId></SessionHeader></se:Header><se:Body><logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>`
	if code, body := soap(logout); code != http.StatusOK {
		t.Fatalf("logout: %d %s", code, body)
	}
	if st := get(); st != http.StatusUnauthorized {
		t.Errorf("REST after SOAP logout: %d, want 401", st)
	}
}
