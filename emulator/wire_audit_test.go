package emulator

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Tests of the wire facts checked in the December 2026 audit against
// salesforce-api.md, one per divergence that a real client could hit.

// /services/data/latest resolves to the newest version (§1): the resource
// map and every resource under it answer as under vNN.N, with URLs that name
// the version it resolved to.
func TestLatestVersionAlias(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "GET", "/services/data/latest", nil)
	wantStatus(t, r, 200)
	m := r.json(t).(map[string]any)
	if m["sobjects"] != "/services/data/v68.0/sobjects" {
		t.Fatalf("resource map of latest: sobjects %v", m["sobjects"])
	}
	r = s.do(t, "POST", "/services/data/latest/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/services/data/v68.0/sobjects/Lead/") {
		t.Fatalf("Location %q", loc)
	}
	r = s.do(t, "GET", "/services/data/latest/query?q=SELECT+Id+FROM+Lead", nil)
	wantStatus(t, r, 200)
	if n := r.json(t).(map[string]any)["totalSize"]; fmt.Sprint(n) != "1" {
		t.Fatalf("query under latest: %s", r.body)
	}
}

// simple-salesforce's get_unprocessed_records asks for
// .../unprocessedRecords: it gets the same file as .../unprocessedrecords.
func TestBulkUnprocessedRecordsSpelling(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ji := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})
	id := ji["id"].(string)
	b.upload(id, "Name\nA\nB\n")
	if st, _ := b.patchState("ingest", id, "Aborted"); st != 200 {
		t.Fatalf("abort: %d", st)
	}
	want := fmt.Sprint(b.results(id, "unprocessedrecords", ','))
	if got := fmt.Sprint(b.results(id, "unprocessedRecords", ',')); got != want || want != "[[Name] [A] [B]]" {
		t.Fatalf("unprocessedRecords %s, unprocessedrecords %s", got, want)
	}
}

// Conditional requests on a record (§3.2, §3.4): If-Modified-Since not
// older than the last change answers 304 without a body; If-Unmodified-Since
// older than it answers 412 and changes nothing.
func TestRecordConditionalRequests(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	path := "/services/data/v62.0/sobjects/Lead/" + r.json(t).(map[string]any)["id"].(string)
	// newTestEmulator's clock starts at 2024-05-01T12:34:56Z.
	created := time.Date(2024, 5, 1, 12, 34, 56, 0, time.UTC)
	later := created.Add(time.Hour).Format(http.TimeFormat)
	earlier := created.Add(-time.Hour).Format(http.TimeFormat)

	r = s.do(t, "GET", path, nil, "If-Modified-Since", later)
	wantStatus(t, r, 304)
	if len(r.body) != 0 {
		t.Errorf("304 with a body: %s", r.body)
	}
	wantStatus(t, s.do(t, "GET", path, nil, "If-Modified-Since", earlier), 200)

	wantError(t, s.do(t, "PATCH", path, map[string]any{"LastName": "Li"}, "If-Unmodified-Since", earlier), 412, codePreconditionFailed, "")
	wantError(t, s.do(t, "DELETE", path, nil, "If-Unmodified-Since", earlier), 412, codePreconditionFailed, "")
	r = s.do(t, "GET", path+"?fields=LastName", nil)
	if got := r.json(t).(map[string]any)["LastName"]; got != "Ng" {
		t.Fatalf("a failed precondition changed the record: LastName %v", got)
	}
	wantStatus(t, s.do(t, "PATCH", path, map[string]any{"LastName": "Li"}, "If-Unmodified-Since", later), 204)
	wantStatus(t, s.do(t, "DELETE", path, nil, "If-Unmodified-Since", later), 204)
}

// The relative date literals beyond days (THIS_YEAR, LAST_N_MONTHS:n, ...)
// parse and filter; the test clock's today is 2024-05-01.
func TestQueryDateLiterals(t *testing.T) {
	s := newCoreServer(t, Config{})
	wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"}), 201)
	for q, want := range map[string]string{
		"SELECT Id FROM Lead WHERE CreatedDate = THIS_YEAR":       "1",
		"SELECT Id FROM Lead WHERE CreatedDate = THIS_MONTH":      "1",
		"SELECT Id FROM Lead WHERE CreatedDate = LAST_N_MONTHS:3": "0",
		"SELECT Id FROM Lead WHERE CreatedDate < THIS_QUARTER":    "0",
		"SELECT Id FROM Lead WHERE CreatedDate = LAST_90_DAYS":    "1",
		"SELECT Id FROM Lead WHERE CreatedDate > LAST_WEEK":       "1",
	} {
		r := s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
		wantStatus(t, r, 200)
		if n := fmt.Sprint(r.json(t).(map[string]any)["totalSize"]); n != want {
			t.Errorf("%s: %s records, want %s", q, n, want)
		}
	}
}

// FIELDS(ALL|STANDARD|CUSTOM) selects the object's fields; ALL and CUSTOM
// need a LIMIT of at most 200.
func TestQueryFieldsFunction(t *testing.T) {
	s := newCoreServer(t, Config{})
	wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme", "Forcesync_Key__c": "k1"}), 201)
	query := func(q string) resp {
		return s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
	}
	r := query("SELECT FIELDS(ALL) FROM Lead LIMIT 200")
	wantStatus(t, r, 200)
	rec := r.json(t).(map[string]any)["records"].([]any)[0].(map[string]any)
	for _, f := range []string{"Id", "LastName", "Company", "Status", "SystemModstamp", "Forcesync_Key__c"} {
		if _, ok := rec[f]; !ok {
			t.Errorf("FIELDS(ALL) lacks %s: %v", f, rec)
		}
	}
	r = query("SELECT Id, FIELDS(CUSTOM) FROM Lead LIMIT 1")
	wantStatus(t, r, 200)
	rec = r.json(t).(map[string]any)["records"].([]any)[0].(map[string]any)
	if len(rec) != 3 || rec["Forcesync_Key__c"] != "k1" {
		t.Errorf("Id, FIELDS(CUSTOM): %v", rec)
	}
	r = query("SELECT FIELDS(STANDARD) FROM Lead")
	wantStatus(t, r, 200)
	rec = r.json(t).(map[string]any)["records"].([]any)[0].(map[string]any)
	if _, ok := rec["Forcesync_Key__c"]; ok || rec["LastName"] != "Ng" {
		t.Errorf("FIELDS(STANDARD): %v", rec)
	}
	wantError(t, query("SELECT FIELDS(ALL) FROM Lead"), 400, "MALFORMED_QUERY", "")
}

// Semi-joins and anti-joins: Id [NOT] IN (SELECT ref FROM Object WHERE ...).
func TestQuerySemiJoin(t *testing.T) {
	s := newCoreServer(t, Config{})
	create := func(obj string, fields map[string]any) string {
		r := s.do(t, "POST", "/services/data/v62.0/sobjects/"+obj, fields)
		wantStatus(t, r, 201)
		return r.json(t).(map[string]any)["id"].(string)
	}
	acme := create("Account", map[string]any{"Name": "Acme"})
	create("Account", map[string]any{"Name": "Globex"})
	create("Contact", map[string]any{"LastName": "Ng", "AccountId": acme})
	create("Contact", map[string]any{"LastName": "Orphan"})
	names := func(q, field string) string {
		r := s.do(t, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(q), nil)
		wantStatus(t, r, 200)
		var out []string
		for _, rec := range r.json(t).(map[string]any)["records"].([]any) {
			out = append(out, rec.(map[string]any)[field].(string))
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ q, field, want string }{
		{"SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "Name", "Acme"},
		{"SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact WHERE LastName = 'Ng')", "Name", "Globex"},
		{"SELECT LastName FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Name = 'Acme')", "LastName", "Ng"},
		{"SELECT LastName FROM Contact WHERE AccountId NOT IN (SELECT Id FROM Account)", "LastName", "Orphan"},
	} {
		if got := names(tt.q, tt.field); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.q, got, tt.want)
		}
	}
}

// A token granted without the api scope is a live session (userinfo
// answers) but the REST API refuses it: 401 INVALID_SESSION_ID "This
// session is not valid for use with the REST API" (§3.5).
func TestRESTNeedsAPIScope(t *testing.T) {
	_, srv := oauthServer(t, Config{AutoApprove: true})
	redirect := "http://127.0.0.1:1717/OauthRedirect"
	token := func(scope string) string {
		code := authorizeCode(t, srv.URL, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "scope": {scope}})
		status, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "redirect_uri": {redirect}}, "", "")
		if status != 200 {
			t.Fatalf("code exchange: %d %v", status, tok)
		}
		return tok["access_token"].(string)
	}
	get := func(tok, path string) resp {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{res.StatusCode, res.Header, b}
	}
	openid := token("openid")
	wantError(t, get(openid, "/services/data/v62.0/sobjects"), 401, "INVALID_SESSION_ID", "This session is not valid for use with the REST API")
	wantStatus(t, get(openid, "/services/oauth2/userinfo"), 200)
	for _, scope := range []string{"api", "full", "openid api refresh_token"} {
		wantStatus(t, get(token(scope), "/services/data/v62.0/sobjects"), 200)
	}
	// The password flow has no consent step: its token carries the app's
	// scopes, api among them, whatever scope the request names.
	for _, scope := range []string{"openid", "refresh_token"} {
		status, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"password"},
			"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "username": {DefaultUsername}, "password": {DefaultPassword},
			"scope": {scope}}, "", "")
		if status != 200 {
			t.Fatalf("password grant with scope %s: %d %v", scope, status, tok)
		}
		wantStatus(t, get(tok["access_token"].(string), "/services/data/v62.0/sobjects"), 200)
	}
}

// POST ...?_HttpMethod=PATCH is a PATCH (REST guide, "Update a Record"),
// for Java clients whose HTTP library cannot send PATCH; upsert too.
func TestHTTPMethodOverride(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	path := "/services/data/v62.0/sobjects/Lead/" + r.json(t).(map[string]any)["id"].(string)
	wantStatus(t, s.do(t, "POST", path+"?_HttpMethod=PATCH", map[string]any{"LastName": "Li"}), 204)
	r = s.do(t, "GET", path+"?fields=LastName", nil)
	if got := r.json(t).(map[string]any)["LastName"]; got != "Li" {
		t.Fatalf("LastName %v after POST ?_HttpMethod=PATCH", got)
	}
	r = s.do(t, "POST", "/services/data/v62.0/sobjects/Lead/Forcesync_Key__c/k9?_HttpMethod=PATCH", map[string]any{"LastName": "Ko", "Company": "Acme"})
	wantStatus(t, r, 201)
	wantStatus(t, s.do(t, "POST", path+"?_HttpMethod=DELETE", nil), 204)
}

// From API 37.0, POST /sobjects/{type}/Id creates a record (Id as the
// external ID field, its value null); PATCH .../Id/{id} updates by Id.
func TestUpsertWithIdField(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead/Id", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	id, _ := r.json(t).(map[string]any)["id"].(string)
	if len(id) != 18 || r.header.Get("Location") != "/services/data/v62.0/sobjects/Lead/"+id {
		t.Fatalf("POST .../Id: id %q, Location %q", id, r.header.Get("Location"))
	}
	r = s.do(t, "PATCH", "/services/data/v62.0/sobjects/Lead/Id/"+id, map[string]any{"LastName": "Li"})
	wantStatus(t, r, 200)
	if m := r.json(t).(map[string]any); m["id"] != id || m["created"] != false {
		t.Fatalf("PATCH .../Id/{id}: %s", r.body)
	}
	// Before 37.0, and on a record Id, POST is not allowed.
	wantError(t, s.do(t, "POST", "/services/data/v36.0/sobjects/Lead/Id", map[string]any{"LastName": "Ng", "Company": "Acme"}), 405, "METHOD_NOT_ALLOWED", "")
	wantError(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Lead/"+id, map[string]any{"LastName": "Ng"}), 405, "METHOD_NOT_ALLOWED", "")
}

// The user-agent flow (§2.1): response_type=token redirects with the token
// in the fragment, and that token works on the REST API.
func TestUserAgentFlow(t *testing.T) {
	_, srv := oauthServer(t, Config{AutoApprove: true})
	q := url.Values{"response_type": {"token"}, "client_id": {DemoClientID},
		"redirect_uri": {"http://127.0.0.1:1717/OauthRedirect"}, "state": {"s 1"}}
	res, err := noRedirect().Get(srv.URL + "/services/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || err != nil || loc.RawQuery != "" {
		t.Fatalf("authorize: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	f, err := url.ParseQuery(loc.Fragment)
	if err != nil || f.Get("access_token") == "" || f.Get("instance_url") != srv.URL || f.Get("token_type") != "Bearer" ||
		f.Get("state") != "s 1" || f.Get("issued_at") == "" || f.Get("signature") == "" || f.Has("expires_in") {
		t.Fatalf("fragment %q", loc.Fragment)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+f.Get("access_token"))
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 200 {
		t.Fatalf("REST with the user-agent flow's token: %d", r2.StatusCode)
	}
}
