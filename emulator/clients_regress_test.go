package emulator

// Regressions found by driving the emulator with real clients (jsforce and
// the sf CLI, see scripts/clients-check). Each test replays, over HTTP, the
// exchange that made the client fail.

import (
	"encoding/json"
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
