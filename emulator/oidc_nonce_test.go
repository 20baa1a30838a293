package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// idTokenClaims decodes an id_token's payload (checkIDToken verifies it).
func idTokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q is not a JWT", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOIDCNonce: the nonce of an authorize request with the openid scope
// comes back unchanged in the id_token of its code, whether the code came
// at once (auto-approve) or through the login and approve pages; a request
// without one gets an id_token without one; a refresh's id_token has none.
func TestOIDCNonce(t *testing.T) {
	_, srv := oauthServer(t, Config{})
	redirect := "http://127.0.0.1:9/cb"
	exchange := func(code string) map[string]any {
		t.Helper()
		_, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}}, DemoClientID, DemoClientSecret)
		if tok["id_token"] == nil {
			t.Fatalf("no id_token: %v", tok)
		}
		checkIDToken(t, srv, tok["id_token"].(string), DemoClientID, tok["id"].(string))
		return tok
	}
	c := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "state": {"s"},
		"scope": {"openid email refresh_token"}, "nonce": {"n-0S6_WzA2Mj"}, "auto_approve": {"true"}})
	tok := exchange(c)
	if got := idTokenClaims(t, tok["id_token"].(string))["nonce"]; got != "n-0S6_WzA2Mj" {
		t.Errorf("nonce = %v, want n-0S6_WzA2Mj", got)
	}
	// A refresh's id_token carries no nonce (there was no authorize request).
	_, ref, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok["refresh_token"].(string)}}, DemoClientID, DemoClientSecret)
	if ref["id_token"] == nil {
		t.Fatalf("refresh gave no id_token: %v", ref)
	}
	if n, ok := idTokenClaims(t, ref["id_token"].(string))["nonce"]; ok {
		t.Errorf("a refresh's id_token has nonce %v", n)
	}
	// Without a nonce, none.
	c = authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "state": {"s"},
		"scope": {"openid"}, "auto_approve": {"true"}})
	if n, ok := idTokenClaims(t, exchange(c)["id_token"].(string))["nonce"]; ok {
		t.Errorf("nonce %v without one asked", n)
	}

	// Through the pages: the login and approve forms carry the nonce on.
	jar, _ := cookiejar.New(nil)
	client := noRedirect()
	client.Jar = jar
	resp, err := client.Get(srv.URL + "/services/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {DemoClientID},
		"redirect_uri": {redirect}, "scope": {"openid"}, "nonce": {"page-nonce"}, "state": {"st"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	form, id := formValues(t, readPage(t, resp))
	if id != "login" || form.Get("nonce") != "page-nonce" {
		t.Fatalf("login form %s carries %v", id, form)
	}
	form.Set("username", "admin@forcesync.local")
	form.Set("password", "forcesync")
	resp, err = client.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	form, id = formValues(t, readPage(t, resp))
	if id != "approve" || form.Get("nonce") != "page-nonce" {
		t.Fatalf("approve form %s carries %v", id, form)
	}
	form.Set("decision", "allow")
	resp, err = client.PostForm(srv.URL+"/services/oauth2/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("approve answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := idTokenClaims(t, exchange(loc.Query().Get("code"))["id_token"].(string))["nonce"]; got != "page-nonce" {
		t.Errorf("nonce through the pages = %v", got)
	}
}
