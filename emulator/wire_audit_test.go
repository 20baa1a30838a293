package emulator

import (
	"encoding/json"
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
	// A header that is not a date: 400 on PATCH (the REST guide's exception
	// to HTTP), ignored on GET as HTTP says.
	wantError(t, s.do(t, "PATCH", path, map[string]any{"LastName": "Li"}, "If-Unmodified-Since", "yesterday"), 400, codeBadConditionalHeader, "")
	wantStatus(t, s.do(t, "GET", path, nil, "If-Modified-Since", "yesterday"), 200)
	r = s.do(t, "GET", path+"?fields=LastName", nil)
	if got := r.json(t).(map[string]any)["LastName"]; got != "Ng" {
		t.Fatalf("a failed precondition changed the record: LastName %v", got)
	}
	wantStatus(t, s.do(t, "PATCH", path, map[string]any{"LastName": "Li"}, "If-Unmodified-Since", later), 204)
	// DELETE takes no conditional headers: an older If-Unmodified-Since
	// does not stop it.
	wantStatus(t, s.do(t, "DELETE", path, nil, "If-Unmodified-Since", earlier), 204)
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
	token := func(scope string) string { return scopedToken(t, srv.URL, scope) }
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

// scopedToken gets an access token granted for scope by the web-server
// flow of an emulator started with AutoApprove.
func scopedToken(t *testing.T, base, scope string) string {
	t.Helper()
	redirect := "http://127.0.0.1:1717/OauthRedirect"
	code := authorizeCode(t, base, url.Values{"client_id": {DemoClientID}, "redirect_uri": {redirect}, "scope": {scope}})
	status, tok, _ := postForm(t, nil, base+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "redirect_uri": {redirect}}, "", "")
	if status != 200 {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	return tok["access_token"].(string)
}

// Bulk API 1.0 refuses a token without the api scope as REST does, in its
// own fault shape (XML, or JSON for a JSON request): 400 InvalidSessionId.
// The same session with the api scope creates the job.
func TestBulkV1NeedsAPIScope(t *testing.T) {
	_, srv := oauthServer(t, Config{AutoApprove: true})
	post := func(tok, ctype, body string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/services/async/62.0/job", strings.NewReader(body))
		req.Header.Set("X-SFDC-Session", tok)
		req.Header.Set("Content-Type", ctype)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	const xmlJob = `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Lead</object><contentType>CSV</contentType></jobInfo>`
	const jsonJob = `{"operation":"insert","object":"Lead","contentType":"CSV"}`
	openid := scopedToken(t, srv.URL, "openid")
	if st, body := post(openid, "application/xml; charset=UTF-8", xmlJob); st != 400 ||
		!strings.Contains(body, "<exceptionCode>InvalidSessionId</exceptionCode>") {
		t.Fatalf("openid token, XML job: %d %s", st, body)
	}
	if st, body := post(openid, "application/json", jsonJob); st != 400 || !strings.Contains(body, `"exceptionCode":"InvalidSessionId"`) {
		t.Fatalf("openid token, JSON job: %d %s", st, body)
	}
	if st, body := post(scopedToken(t, srv.URL, "api"), "application/json", jsonJob); st != 201 && st != 200 {
		t.Fatalf("api token: %d %s", st, body)
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

// Sforce-Limit-Info is on every REST answer but the version list (REST
// guide, "Limit Info Header"), error answers included: the session is
// checked and the call counted before a 404, 405, 410, 400 or 415. A call
// without a valid session answers 401, whatever the path or method, and
// carries no usage (no org to report on).
func TestLimitInfoOnErrorAnswers(t *testing.T) {
	s := newCoreServer(t, Config{DailyAPIRequests: 500})
	for i, tt := range []struct {
		method, path string
		body         any
		hdr          []string
		status       int
		code         string
	}{
		{"GET", "/services/data/v62.0/nonsense", nil, nil, 404, "NOT_FOUND"},
		{"GET", "/services/data/v62.0/sobjects/Bogus__c", nil, nil, 404, "NOT_FOUND"},
		{"DELETE", "/services/data/v62.0/sobjects", nil, nil, 405, "METHOD_NOT_ALLOWED"},
		{"PUT", "/services/data/v62.0/sobjects/Lead", nil, nil, 405, "METHOD_NOT_ALLOWED"},
		{"GET", "/services/data/v69.0/sobjects", nil, nil, 404, "NOT_FOUND"},
		{"GET", "/services/data/v30.0/sobjects", nil, nil, 410, "API_VERSION_RETIRED"},
		{"GET", "/services/data/v62.0/query?q=SELECT+FROM", nil, nil, 400, "MALFORMED_QUERY"},
		{"POST", "/services/data/v62.0/sobjects/Lead", "LastName=Ng", []string{"Content-Type", "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"POST", "/services/data/v62.0/sobjects/Lead", "{", nil, 400, "JSON_PARSER_ERROR"},
	} {
		before, _ := s.e.APIUsage()
		r := s.do(t, tt.method, tt.path, tt.body, tt.hdr...)
		wantError(t, r, tt.status, tt.code, "")
		if h, want := r.header.Get("Sforce-Limit-Info"), fmt.Sprintf("api-usage=%d/500", before+1); h != want {
			t.Errorf("%d: %s %s answered %d with Sforce-Limit-Info %q, want %q", i, tt.method, tt.path, r.status, h, want)
		}
	}
	before, _ := s.e.APIUsage()
	for _, tt := range [][2]string{{"GET", "/services/data/v62.0/nonsense"}, {"DELETE", "/services/data/v62.0/sobjects"}, {"GET", "/services/data/v69.0/sobjects"}} {
		r := s.do(t, tt[0], tt[1], nil, "Authorization", "")
		wantError(t, r, 401, "INVALID_SESSION_ID", "Session expired or invalid")
		if h := r.header.Get("Sforce-Limit-Info"); h != "" {
			t.Errorf("401 on %s %s carries Sforce-Limit-Info %q", tt[0], tt[1], h)
		}
	}
	if after, _ := s.e.APIUsage(); after != before {
		t.Errorf("unauthenticated calls counted: %d -> %d", before, after)
	}
}

// An unknown Bulk 2.0 job Id (never issued, of the other kind of job, or
// not an Id) answers 404 NOT_FOUND "The requested resource does not exist"
// on every job resource. The sf CLI's `data bulk results` tells a wrong
// job Id by exactly that message ("Ensure the ID isn't from a query job").
func TestBulkUnknownJobID(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	ingest := b.createJob("ingest", map[string]any{"object": "Account", "operation": "insert"})["id"].(string)
	query := b.createJob("query", map[string]any{"operation": "query", "query": "SELECT Id FROM Account"})["id"].(string)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", b.jobsPath("ingest") + "/7505e00000ZZZZZAAA", ""},
		{"GET", b.jobsPath("ingest") + "/" + query, ""},
		{"GET", b.jobsPath("query") + "/" + ingest, ""},
		{"GET", b.jobsPath("ingest") + "/not-an-id", ""},
		{"PATCH", b.jobsPath("ingest") + "/7505e00000ZZZZZAAA", `{"state":"UploadComplete"}`},
		{"DELETE", b.jobsPath("query") + "/7505e00000ZZZZZAAA", ""},
		{"PUT", b.jobsPath("ingest") + "/7505e00000ZZZZZAAA/batches", "Name\nA\n"},
		{"GET", b.jobsPath("ingest") + "/7505e00000ZZZZZAAA/successfulResults", ""},
		{"GET", b.jobsPath("query") + "/" + ingest + "/results", ""},
	} {
		ctype := "application/json"
		if tt.method == "PUT" {
			ctype = "text/csv"
		}
		st, h, out := b.do(tt.method, tt.path, ctype, strings.NewReader(tt.body))
		wantError(t, resp{st, h, out}, 404, "NOT_FOUND", "The requested resource does not exist")
	}
}

// API logins by password take the security token appended to the password
// (OAuth username-password flow and SOAP login): by default the password
// alone works too, as for a caller inside the org's trusted IP ranges;
// with RequireSecurityToken only password+token does. A wrong token, or a
// token on a user without one, fails like a wrong password.
func TestPasswordLoginSecurityToken(t *testing.T) {
	const jane, janePW, janeTok = "jane@example.com", "janepw1234", "JaneTok3n"
	for _, require := range []bool{false, true} {
		_, srv := oauthServer(t, Config{RequireSecurityToken: require, Users: []UserConfig{
			{Username: jane, Password: janePW, SecurityToken: janeTok},
			{Username: "bob@example.com", Password: "bobpw1234"},
		}})
		grant := func(user, pw string) (int, any) {
			st, tok, _ := postForm(t, nil, srv.URL+"/services/oauth2/token", url.Values{"grant_type": {"password"},
				"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}, "username": {user}, "password": {pw}}, "", "")
			return st, tok["error_description"]
		}
		soap := func(user, pw string) int {
			env := `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Body><login xmlns="urn:partner.soap.sforce.com"><username>` +
				user + `</username><password>` + pw + `</password></login></se:Body></se:Envelope>`
			res, err := http.Post(srv.URL+"/services/Soap/u/62.0", "text/xml", strings.NewReader(env))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for _, tt := range []struct {
			user, pw string
			ok       bool
		}{
			{DefaultUsername, DefaultPassword + DefaultSecurityToken, true},
			{jane, janePW + janeTok, true},
			{DefaultUsername, DefaultPassword, !require},
			{jane, janePW, !require},
			{"bob@example.com", "bobpw1234", !require},
			{jane, janePW + "WrongTok3n", false},
			{jane, janePW + DefaultSecurityToken, false},
			{DefaultUsername, "nope" + DefaultSecurityToken, false},
		} {
			st, desc := grant(tt.user, tt.pw)
			if tt.ok && st != 200 || !tt.ok && (st != 400 || desc != "authentication failure") {
				t.Errorf("require=%v: password grant %s with %q: %d %v", require, tt.user, tt.pw, st, desc)
			}
			if st := soap(tt.user, tt.pw); tt.ok != (st == 200) {
				t.Errorf("require=%v: SOAP login %s with %q: %d", require, tt.user, tt.pw, st)
			}
		}
	}
}

// GET /recent (restforce's client.recent, jsforce's conn.recent()): an
// array of records with attributes, Id and Name, newest first, at most
// ?limit= of them.
func TestRecentItems(t *testing.T) {
	s := newCoreServer(t, Config{})
	for _, n := range []string{"First", "Second", "Third"} {
		wantStatus(t, s.do(t, "POST", "/services/data/v62.0/sobjects/Account", map[string]any{"Name": n}), 201)
	}
	r := s.do(t, "GET", "/services/data/v62.0/recent?limit=2", nil)
	wantStatus(t, r, 200)
	var recs []map[string]any
	if err := json.Unmarshal(r.body, &recs); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if len(recs) != 2 || recs[0]["Name"] != "Third" || recs[1]["Name"] != "Second" || recs[0]["Id"] == nil ||
		recs[0]["attributes"].(map[string]any)["type"] != "Account" {
		t.Fatalf("recent: %s", r.body)
	}
	wantError(t, s.do(t, "GET", "/services/data/v62.0/recent?limit=x", nil), 400, "INVALID_QUERY_PARAMETER_VALUE", "")
}

// NOT_FOUND answers carry no fields key, whatever the method; describe
// sub-resources the emulator does not serve (or a record type the object
// does not have) answer plain NOT_FOUND, not a complaint about an external
// ID field named "describe".
func TestNotFoundShape(t *testing.T) {
	s := newCoreServer(t, Config{})
	const missing = "/services/data/v62.0/sobjects/Lead/00Q000000000000EAA"
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		var body any
		if m == "PATCH" {
			body = map[string]any{"LastName": "x"}
		}
		e := wantError(t, s.do(t, m, missing, body), 404, "NOT_FOUND", "The requested resource does not exist")
		if _, has := e["fields"]; has {
			t.Errorf("%s of a missing record: NOT_FOUND with a fields key", m)
		}
	}
	for _, p := range []string{"describe/searchLayouts", "describe/namedLayouts/UserAlt", "describe/layouts/0120000000000001AA"} {
		wantError(t, s.do(t, "GET", "/services/data/v62.0/sobjects/Lead/"+p, nil), 404, "NOT_FOUND", "The requested resource does not exist")
	}
}

// A fault rule standing for an error inside the API (500
// UNKNOWN_EXCEPTION, a 4xx, UNABLE_TO_LOCK_ROW) answers with
// Sforce-Limit-Info and counts the call, as Salesforce does for an
// authenticated REST call; one standing for the edge (503, 429) or a
// caller without a session does not.
func TestFaultAnswersCarryLimitInfo(t *testing.T) {
	s := newCoreServer(t, Config{DailyAPIRequests: 500})
	for _, tt := range []struct {
		fault Fault
		want  bool
	}{
		{Fault{Status: 500, Path: "/services/data/*/sobjects", Count: 1}, true},
		{Fault{Status: 400, ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "no", Path: "/services/data/*/sobjects", Count: 1}, true},
		{Fault{Type: FaultLockRow, Path: "/services/data/*/sobjects", Count: 1}, true},
		{Fault{Status: 503, Path: "/services/data/*/sobjects", Count: 1}, false},
		{Fault{Status: 429, Path: "/services/data/*/sobjects", Count: 1}, false},
	} {
		mustFault(t, s.e, tt.fault)
		before, _ := s.e.APIUsage()
		r := s.do(t, "GET", "/services/data/v62.0/sobjects", nil)
		after, _ := s.e.APIUsage()
		h := r.header.Get("Sforce-Limit-Info")
		if tt.want && (h != fmt.Sprintf("api-usage=%d/500", before+1) || after != before+1) ||
			!tt.want && (h != "" || after != before) {
			t.Errorf("fault %+v answered %d: Sforce-Limit-Info %q, usage %d -> %d", tt.fault, r.status, h, before, after)
		}
	}
	mustFault(t, s.e, Fault{Status: 500, Path: "/services/data/*/sobjects", Count: 1})
	if r := s.do(t, "GET", "/services/data/v62.0/sobjects", nil, "Authorization", ""); r.status != 500 || r.header.Get("Sforce-Limit-Info") != "" {
		t.Errorf("fault without a session: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
}

// Create and upsert answer their keys in Salesforce's order (id, success,
// errors, created), as recorded responses show them; clients comparing
// bodies as text, and people reading logs, see the familiar shape.
func TestSaveResponseKeyOrder(t *testing.T) {
	s := newCoreServer(t, Config{})
	r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	if !strings.HasPrefix(string(r.body), `{"id":"00Q`) || !strings.HasSuffix(strings.TrimSpace(string(r.body)), `","success":true,"errors":[]}`) {
		t.Errorf("create: %s", r.body)
	}
	r = s.do(t, "PATCH", "/services/data/v62.0/sobjects/Lead/Forcesync_Key__c/k1", map[string]any{"LastName": "Ng", "Company": "Acme"})
	wantStatus(t, r, 201)
	if !strings.HasSuffix(strings.TrimSpace(string(r.body)), `","success":true,"errors":[],"created":true}`) {
		t.Errorf("upsert insert: %s", r.body)
	}
	r = s.do(t, "PATCH", "/services/data/v62.0/sobjects/Lead/Forcesync_Key__c/k1", map[string]any{"LastName": "Li"})
	wantStatus(t, r, 200)
	if !strings.HasSuffix(strings.TrimSpace(string(r.body)), `","success":true,"errors":[],"created":false}`) {
		t.Errorf("upsert update: %s", r.body)
	}
}

// Bulk API 1.0 answers a wrong method (405) and an unknown path (400
// InvalidOperation for a misspelt "job", InvalidUrl below it) with its own
// fault, XML or JSON like the request, not the REST API's error array;
// the session is checked first, as on its other resources.
func TestBulkV1UnknownPathAndMethod(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	st, out := b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Lead","contentType":"CSV"}`)
	var job v1Info
	if st != 201 || json.Unmarshal(out, &job) != nil {
		t.Fatalf("create: %d %s", st, out)
	}
	for _, tt := range []struct {
		method, path, ctype string
		status              int
		want                string
	}{
		{"DELETE", "job/" + job.ID, "", 405, "<exceptionCode>MethodNotAllowed</exceptionCode>"},
		{"PUT", "job/" + job.ID + "/batch", "application/json", 405, `"exceptionCode":"MethodNotAllowed"`},
		{"GET", "jbo/" + job.ID, "", 400, "<exceptionCode>InvalidOperation</exceptionCode>"},
		{"GET", "job/" + job.ID + "/batch/x/result/y/z", "application/json", 400, `"exceptionCode":"InvalidUrl"`},
	} {
		st, out := b.v1do(tt.method, tt.path, tt.ctype, "")
		if st != tt.status || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s %s: %d %s, want %d with %s", tt.method, tt.path, st, out, tt.status, tt.want)
		}
	}
	req, _ := http.NewRequest("DELETE", b.srv.URL+"/services/async/62.0/job/"+job.ID, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(body), "InvalidSessionId") {
		t.Errorf("without a session: %d %s", res.StatusCode, body)
	}
}

// With the daily allowance spent, Bulk API 1.0 refuses in its own fault
// shape (ExceededQuota), not the REST error array.
func TestBulkV1AllowanceSpent(t *testing.T) {
	b := newBulkEnv(t, bulkTestConfig())
	_, max := b.e.APIUsage()
	b.e.SetAPIUsage(max, 0)
	st, out := b.v1do("POST", "job", "", `<?xml version="1.0" encoding="UTF-8"?><jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><operation>insert</operation><object>Lead</object><contentType>CSV</contentType></jobInfo>`)
	if st != 403 || !strings.Contains(string(out), "<exceptionCode>ExceededQuota</exceptionCode>") {
		t.Fatalf("XML: %d %s", st, out)
	}
	st, out = b.v1do("POST", "job", "application/json", `{"operation":"insert","object":"Lead","contentType":"CSV"}`)
	if st != 403 || !strings.Contains(string(out), `"exceptionCode":"ExceededQuota"`) {
		t.Fatalf("JSON: %d %s", st, out)
	}
}

// A request body the emulator cannot decode (an unknown Content-Encoding:
// 415; a broken gzip stream: 400) is answered like every other error under
// a version: the call is counted and Sforce-Limit-Info sent, and a caller
// without a session gets 401 instead. The version list stays uncounted.
func TestBodyRefusalCarriesLimitInfo(t *testing.T) {
	s := newCoreServer(t, Config{DailyAPIRequests: 500})
	const lead = `{"LastName":"Ng","Company":"Acme"}`
	for _, tt := range []struct {
		enc, body string
		status    int
	}{{"br", lead, 415}, {"gzip", "not gzip", 400}} {
		before, _ := s.e.APIUsage()
		r := s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", tt.body, "Content-Encoding", tt.enc)
		code := map[int]string{415: "UNSUPPORTED_MEDIA_TYPE", 400: "JSON_PARSER_ERROR"}[tt.status]
		wantError(t, r, tt.status, code, "")
		if h := r.header.Get("Sforce-Limit-Info"); h != fmt.Sprintf("api-usage=%d/500", before+1) {
			t.Errorf("%s: Sforce-Limit-Info %q after usage %d", tt.enc, h, before)
		}
		r = s.do(t, "POST", "/services/data/v62.0/sobjects/Lead", tt.body, "Content-Encoding", tt.enc, "Authorization", "")
		wantError(t, r, 401, "INVALID_SESSION_ID", "")
	}
	r := s.do(t, "POST", "/services/data", lead, "Content-Encoding", "br")
	if r.status != 415 || r.header.Get("Sforce-Limit-Info") != "" {
		t.Errorf("version list: %d, Sforce-Limit-Info %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
}
