package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

// passwordToken logs in with the password grant and returns the token response.
func passwordToken(t *testing.T, base, username, password string) map[string]any {
	t.Helper()
	s, tok, _ := postForm(t, nil, base+"/services/oauth2/token", url.Values{"grant_type": {"password"},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "username": {username}, "password": {password}}, "", "")
	if s != 200 {
		t.Fatalf("password grant for %s: %d %v", username, s, tok)
	}
	return tok
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestIdentityURL(t *testing.T) {
	e, srv := oauthServer(t, Config{Users: []UserConfig{{Username: "jane@example.com", Password: "pw", FirstName: "Jane", LastName: "Doe", Email: "jane.doe@example.com"}}})
	tok := passwordToken(t, srv.URL, "jane@example.com", "pw")
	at, id := tok["access_token"].(string), tok["id"].(string)

	s, v := getJSON(t, id, at)
	if s != 200 {
		t.Fatalf("identity: %d %v", s, v)
	}
	got := v.(map[string]any)
	want := []string{"active", "addr_city", "addr_country", "addr_state", "addr_street", "addr_zip", "asserted_user",
		"display_name", "email", "email_verified", "first_name", "id", "is_app_installed", "is_lightning_login_user",
		"language", "last_modified_date", "last_name", "locale", "mobile_phone", "mobile_phone_verified", "nick_name",
		"organization_id", "photos", "status", "timezone", "urls", "user_id", "user_type", "username", "utcOffset"}
	if k := sortedKeys(got); strings.Join(k, ",") != strings.Join(want, ",") {
		t.Errorf("identity keys\n got %v\nwant %v", k, want)
	}
	userID := id[strings.LastIndex(id, "/")+1:]
	checks := map[string]any{"id": id, "asserted_user": true, "user_id": userID, "organization_id": e.orgID(),
		"username": "jane@example.com", "nick_name": "jane", "display_name": "Jane Doe", "email": "jane.doe@example.com",
		"first_name": "Jane", "last_name": "Doe", "timezone": "America/Los_Angeles", "active": true, "user_type": "STANDARD",
		"language": "en_US", "locale": "en_US", "utcOffset": float64(-28800000), "is_app_installed": true, "addr_city": nil}
	for k, w := range checks {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if lm, _ := got["last_modified_date"].(string); !strings.HasSuffix(lm, "+0000") || len(lm) != 28 {
		t.Errorf("last_modified_date %q is not Salesforce's datetime format", lm)
	}
	urls := got["urls"].(map[string]any)
	if len(urls) != 17 || urls["rest"] != srv.URL+"/services/data/v{version}/" || urls["custom_domain"] != srv.URL ||
		urls["enterprise"] != srv.URL+"/services/Soap/c/{version}/"+e.orgID()[:15] || urls["profile"] != srv.URL+"/"+userID {
		t.Errorf("urls %v", urls)
	}

	// ?oauth_token= instead of the header, and ?version= fills the placeholder.
	s, v = getJSON(t, id+"?version=65.0&oauth_token="+url.QueryEscape(at), "")
	if s != 200 || v.(map[string]any)["urls"].(map[string]any)["sobjects"] != srv.URL+"/services/data/v65.0/sobjects/" {
		t.Errorf("identity with oauth_token and version: %d %v", s, v)
	}
	// Another user's identity is readable; asserted_user is then false.
	admin := passwordToken(t, srv.URL, DefaultUsername, DefaultPassword)
	s, v = getJSON(t, id, admin["access_token"].(string))
	if s != 200 || v.(map[string]any)["asserted_user"] != false || v.(map[string]any)["username"] != "jane@example.com" {
		t.Errorf("admin reading jane: %d %v", s, v)
	}
	// 15-character Ids work too.
	if s, _ := getJSON(t, srv.URL+"/id/"+e.orgID()[:15]+"/"+userID[:15], at); s != 200 {
		t.Errorf("15-char identity URL: %d", s)
	}
	for _, bad := range []string{"/id/00D000000000000AAA/" + userID, "/id/" + e.orgID() + "/005000000000000AAA", "/id/x/y"} {
		if s, _ := getJSON(t, srv.URL+bad, at); s != 404 {
			t.Errorf("%s: %d, want 404", bad, s)
		}
	}
	if s, v := getJSON(t, id, "bogus"); s != 401 || !strings.Contains(jsonString(v), "INVALID_SESSION_ID") {
		t.Errorf("bad token: %d %v", s, v)
	}
	if s, _ := getJSON(t, id, ""); s != 401 {
		t.Errorf("no token: %d", s)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestUserInfo(t *testing.T) {
	e, srv := oauthServer(t, Config{})
	tok := passwordToken(t, srv.URL, DefaultUsername, DefaultPassword)
	s, v := getJSON(t, srv.URL+"/services/oauth2/userinfo", tok["access_token"].(string))
	if s != 200 {
		t.Fatalf("userinfo: %d %v", s, v)
	}
	got := v.(map[string]any)
	for k, w := range map[string]any{"sub": tok["id"], "organization_id": e.orgID(), "preferred_username": DefaultUsername,
		"name": "Admin User", "given_name": "Admin", "family_name": "User", "email": DefaultUsername, "email_verified": true,
		"zoneinfo": "America/Los_Angeles", "locale": "en_US", "language": "en_US", "active": true, "user_type": "STANDARD"} {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if u := got["urls"].(map[string]any); u["query"] != srv.URL+"/services/data/v{version}/query/" {
		t.Errorf("urls %v", u)
	}
	if _, ok := got["photos"].(map[string]any); !ok {
		t.Errorf("photos missing: %v", got)
	}
	if _, err := time.Parse(time.RFC3339, got["updated_at"].(string)); err != nil {
		t.Errorf("updated_at: %v", err)
	}
	if s, _ := getJSON(t, srv.URL+"/services/oauth2/userinfo", "nope"); s != 401 {
		t.Errorf("bad token: %d", s)
	}
}

func TestIntrospect(t *testing.T) {
	clock := newFakeClock()
	_, srv := oauthServer(t, Config{Now: clock.Now, AutoApprove: true})
	redirect := "http://127.0.0.1:1/cb"
	c := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "scope": {"api refresh_token"}})
	_, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {c},
		"redirect_uri": {redirect}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
	introspect := srv.URL + "/services/oauth2/introspect"
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)

	s, b, _ := postForm(t, nil, introspect, url.Values{"token": {at}, "token_type_hint": {"access_token"}}, DemoClientID, DemoClientSecret)
	now := clock.Now().Unix()
	want := map[string]any{"active": true, "scope": "api refresh_token", "client_id": DemoClientID, "username": DefaultUsername,
		"sub": tok["id"], "token_type": "access_token", "iat": float64(now), "nbf": float64(now), "exp": float64(now + 7200)}
	if s != 200 || !jsonEqual(b, want) {
		t.Errorf("access token: %d %v\nwant %v", s, b, want)
	}
	s, b, _ = postForm(t, nil, introspect, url.Values{"token": {rt}, "client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}, "", "")
	if s != 200 || b["active"] != true || b["token_type"] != "refresh_token" {
		t.Errorf("refresh token: %d %v", s, b)
	}
	s, b, _ = postForm(t, nil, introspect, url.Values{"token": {"nope"}}, DemoClientID, DemoClientSecret)
	if s != 200 || !jsonEqual(b, map[string]any{"active": false}) {
		t.Errorf("unknown token: %d %v", s, b)
	}
	// An expired access token is inactive.
	clock.Advance(3 * time.Hour)
	s, b, _ = postForm(t, nil, introspect, url.Values{"token": {at}}, DemoClientID, DemoClientSecret)
	if s != 200 || b["active"] != false {
		t.Errorf("expired token: %d %v", s, b)
	}
	// Client authentication is required.
	s, b, _ = postForm(t, nil, introspect, url.Values{"token": {rt}}, "", "")
	if s != 401 || b["error"] != "invalid_client_id" {
		t.Errorf("no client: %d %v", s, b)
	}
	s, b, _ = postForm(t, nil, introspect, url.Values{"token": {rt}}, DemoClientID, "wrong")
	if s != 401 || b["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", s, b)
	}
}

func TestDiscovery(t *testing.T) {
	_, srv := oauthServer(t, Config{})
	s, v := getJSON(t, srv.URL+"/.well-known/openid-configuration", "")
	if s != 200 {
		t.Fatal(s)
	}
	d := v.(map[string]any)
	for k, w := range map[string]string{"issuer": srv.URL, "token_endpoint": srv.URL + "/services/oauth2/token",
		"authorization_endpoint": srv.URL + "/services/oauth2/authorize", "jwks_uri": srv.URL + "/id/keys",
		"revocation_endpoint": srv.URL + "/services/oauth2/revoke", "introspection_endpoint": srv.URL + "/services/oauth2/introspect",
		"userinfo_endpoint": srv.URL + "/services/oauth2/userinfo"} {
		if d[k] != w {
			t.Errorf("%s = %v, want %s", k, d[k], w)
		}
	}
	s, v = getJSON(t, srv.URL+"/id/keys", "")
	keys, _ := v.(map[string]any)["keys"].([]any)
	if s != 200 || len(keys) != 1 || keys[0].(map[string]any)["kty"] != "RSA" || keys[0].(map[string]any)["alg"] != "RS256" {
		t.Errorf("jwks: %d %v", s, v)
	}
	// Trailing slashes are ignored, as everywhere on the emulator.
	resp, err := http.Get(srv.URL + "/.well-known/openid-configuration/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with trailing slash: %d", resp.StatusCode)
	}
}
