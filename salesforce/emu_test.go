package salesforce

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"golang.org/x/oauth2"
	"pgregory.net/rapid"
)

// emuOrg is the emulator on loopback plus a client logged in to it.
type emuOrg struct {
	e   *emulator.Emulator
	srv *httptest.Server
	c   *Client

	mu    sync.Mutex
	calls []CallInfo
}

func (o *emuOrg) callsOf(kind CallKind) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.calls {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

func emuConfig() emulator.Config {
	pub, _ := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	return emulator.Config{
		AutoApprove: true,
		ConnectedApps: []emulator.ConnectedApp{{
			ClientID: "jwt-app", ClientSecret: "jwt-secret",
			Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		}},
		Objects: []emulator.ObjectConfig{{Name: "Lead", Fields: []emulator.FieldConfig{
			{Name: "Ext_Id__c", Type: "string", Length: 64, ExternalID: true, Unique: true},
			{Name: "Loose_Key__c", Type: "string", Length: 64, ExternalID: true},
		}}},
	}
}

func newEmuOrg(t testing.TB, mod func(*Config)) *emuOrg {
	t.Helper()
	return newEmuOrgWith(t, emuConfig(), mod)
}

func newEmuOrgWith(t testing.TB, ecfg emulator.Config, mod func(*Config)) *emuOrg {
	t.Helper()
	e, err := emulator.New(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	o := &emuOrg{e: e, srv: httptest.NewServer(e)}
	t.Cleanup(o.srv.Close)
	cfg := Config{
		LoginURL: o.srv.URL,
		Auth: Password{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
			Username: emulator.DefaultUsername, Password: emulator.DefaultPassword},
		Hooks: Hooks{OnCall: func(ci CallInfo) { o.mu.Lock(); o.calls = append(o.calls, ci); o.mu.Unlock() }},
		Retry: RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }},
	}
	if mod != nil {
		mod(&cfg)
	}
	o.c, err = NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return o
}

// clock is a settable time source for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestEmuCRUDAndDescribe(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	ecfg := emuConfig()
	ecfg.Now = clk.now
	o := newEmuOrgWith(t, ecfg, nil)
	ctx := context.Background()
	c := o.c
	if c.Version() != fmt.Sprintf("%d.0", emulator.MaxVersion) {
		t.Fatalf("version %s", c.Version())
	}
	g, err := c.DescribeGlobal(ctx)
	if err != nil || len(g.SObjects) == 0 {
		t.Fatalf("describeGlobal: %v %+v", err, g)
	}
	before := o.callsOf(KindREST)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			d, err := c.Describe(ctx, "Lead")
			if err != nil || d.Field("Ext_Id__c") == nil || !d.Field("Ext_Id__c").ExternalID {
				t.Errorf("describe: %v", err)
			}
		})
	}
	wg.Wait()
	if n := o.callsOf(KindREST) - before; n != 1 {
		t.Fatalf("8 concurrent describes made %d calls, want 1", n)
	}

	id, err := c.Create(ctx, "Lead", Record{"LastName": "Lovelace", "Company": "Analytical"})
	if err != nil || len(id) != 18 || !strings.HasPrefix(id, "00Q") {
		t.Fatalf("create: %q %v", id, err)
	}
	if err := c.Update(ctx, "Lead", id, Record{"FirstName": "Ada", "Id": id}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Get(ctx, "Lead", id, "FirstName", "LastName")
	if err != nil || r["FirstName"] != "Ada" || r.Type() != "Lead" || r.ID() != id {
		t.Fatalf("get: %v %v", r, err)
	}
	_, err = c.Create(ctx, "Lead", Record{"LastName": "No company"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "REQUIRED_FIELD_MISSING" || ae.Status != 400 || ae.Retryable() {
		t.Fatalf("create without Company: %v", err)
	}

	start := clk.now().Add(-time.Hour)
	up, err := c.Upsert(ctx, "Lead", "Ext_Id__c", "ext/1 x", Record{"LastName": "Hopper", "Company": "Navy", "Ext_Id__c": "ignored"})
	if err != nil || !up.Created || up.ID == "" {
		t.Fatalf("upsert insert: %+v %v", up, err)
	}
	up2, err := c.Upsert(ctx, "Lead", "Ext_Id__c", "ext/1 x", Record{"Title": "RADM"})
	if err != nil || up2.Created || up2.ID != up.ID {
		t.Fatalf("upsert update: %+v %v", up2, err)
	}
	byExt, err := c.GetByExternalID(ctx, "Lead", "Ext_Id__c", "ext/1 x", "Title")
	if err != nil || byExt["Title"] != "RADM" {
		t.Fatalf("get by ext: %v %v", byExt, err)
	}

	if err := c.Delete(ctx, "Lead", id); err != nil {
		t.Fatal(err)
	}
	err = c.Delete(ctx, "Lead", id)
	if !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("second delete: %v", err)
	}
	clk.add(2 * time.Minute) // getUpdated covers whole minutes only
	end := clk.now()
	upd, err := c.GetUpdated(ctx, "Lead", start, end)
	if err != nil || !contains(upd.IDs, up.ID) {
		t.Fatalf("getUpdated: %+v %v", upd, err)
	}
	del, err := c.GetDeleted(ctx, "Lead", start, end)
	if err != nil || len(del.Records) != 1 || del.Records[0].ID != id || del.Records[0].DeletedDate.IsZero() {
		t.Fatalf("getDeleted: %+v %v", del, err)
	}
	lim, err := c.Limits(ctx)
	if err != nil || lim["DailyApiRequests"].Max == 0 {
		t.Fatalf("limits: %v %v", lim, err)
	}
	if li := c.LastLimitInfo(); li.Max == 0 || li.Used == 0 {
		t.Fatalf("no Sforce-Limit-Info seen: %+v", li)
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func TestEmuUpsertMultipleMatches(t *testing.T) {
	o := newEmuOrg(t, nil)
	ids, err := o.e.Seed("Lead", []map[string]any{
		{"LastName": "A", "Company": "X", "Loose_Key__c": "dup"},
		{"LastName": "B", "Company": "X", "Loose_Key__c": "dup"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.c.Upsert(context.Background(), "Lead", "Loose_Key__c", "dup", Record{"Title": "x"})
	var mm *MultipleMatchesError
	if !errors.As(err, &mm) || len(mm.IDs) != 2 || !contains(mm.IDs, ids[0]) || !contains(mm.IDs, ids[1]) {
		t.Fatalf("err = %v, want MultipleMatchesError with %v", err, ids)
	}
}

func TestEmuCollections(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	c := o.c
	recs := leads(450, func(i int) string { return fmt.Sprintf("k%d", i) })
	delete(recs[201], "Company") // one bad record in the second chunk
	before := o.callsOf(KindCollections)
	res, err := c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs, &CollectionOptions{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := o.callsOf(KindCollections) - before; n != 3 {
		t.Fatalf("450 records took %d calls, want 3", n)
	}
	if len(res) != 450 {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		if i == 201 {
			var re *RecordError
			if r.Success || !errors.As(r.Error(), &re) || re.StatusCode != "REQUIRED_FIELD_MISSING" {
				t.Fatalf("record 201: %+v", r)
			}
			continue
		}
		if !r.Success || !r.Created || r.ID == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// Results align with input: record i's Id holds LastName L000i.
	got, err := c.Get(ctx, "Lead", res[317].ID, "LastName")
	if err != nil || got["LastName"] != "L0317" {
		t.Fatalf("record 317 is %v (%v)", got, err)
	}
	// Again: all updates.
	recs[201]["Company"] = "Acme"
	res, err = c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, r := range res {
		if r.Created {
			created++
		}
	}
	if created != 1 { // only 201 is new
		t.Fatalf("second upsert created %d", created)
	}

	// allOrNone: one bad record rolls its chunk back.
	bad := leads(3, nil)
	delete(bad[1], "LastName")
	res, err = c.CreateMany(ctx, "Lead", bad, &CollectionOptions{AllOrNone: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Success {
			t.Fatalf("allOrNone record %d succeeded", i)
		}
	}
	if res[1].Errors[0].StatusCode != "REQUIRED_FIELD_MISSING" || res[0].Errors[0].StatusCode != CodeAllOrNoneRolledBack {
		t.Fatalf("allOrNone results %+v", res)
	}

	// Update and delete many.
	ids := make([]string, 0, 450)
	upd := make([]Record, 0, 450)
	all, err := c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		ids = append(ids, r.ID)
		upd = append(upd, Record{"Id": r.ID, "Title": "T"})
	}
	ur, err := c.UpdateMany(ctx, "Lead", upd, &CollectionOptions{ChunkSize: 100, Concurrency: 2})
	if err != nil || len(ur) != 450 || !ur[449].Success || ur[449].ID != ids[449] {
		t.Fatalf("update many: %v", err)
	}
	dr, err := c.DeleteMany(ctx, ids, nil)
	if err != nil || len(dr) != 450 || !dr[0].Success || dr[0].ID != ids[0] {
		t.Fatalf("delete many: %v %+v", err, dr[:1])
	}
}

func TestEmuQueryPaging(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	recs := make([]map[string]any, 450)
	for i := range recs {
		recs[i] = map[string]any{"LastName": fmt.Sprintf("Q%03d", i), "Company": "Paging"}
	}
	if _, err := o.e.Seed("Lead", recs); err != nil {
		t.Fatal(err)
	}
	d, err := o.c.Describe(ctx, "Lead")
	if err != nil {
		t.Fatal(err)
	}
	soql, err := Select("Id", "LastName").From("Lead").Where(Eq("Company", "Paging")).OrderBy("LastName").Build(d)
	if err != nil {
		t.Fatal(err)
	}
	before := o.callsOf(KindQuery)
	rows := o.c.Query(ctx, soql, &QueryOptions{BatchSize: 200})
	n := 0
	for rec, err := range rows.All() {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("Q%03d", n); rec["LastName"] != want {
			t.Fatalf("row %d is %v, want %s", n, rec["LastName"], want)
		}
		n++
	}
	if n != 450 || rows.TotalSize() != 450 {
		t.Fatalf("%d rows, totalSize %d", n, rows.TotalSize())
	}
	if calls := o.callsOf(KindQuery) - before; calls != 3 {
		t.Fatalf("%d query calls, want 3 pages of 200", calls)
	}

	// queryAll sees deleted rows.
	first, err := o.c.QueryRecords(ctx, soql+" LIMIT 1")
	if err != nil || len(first) != 1 {
		t.Fatal(err)
	}
	if err := o.c.Delete(ctx, "Lead", first[0].ID()); err != nil {
		t.Fatal(err)
	}
	q := "SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true"
	deleted := 0
	all := o.c.QueryAll(ctx, q, nil)
	for all.Next() {
		deleted++
	}
	if all.Err() != nil || deleted != 1 {
		t.Fatalf("queryAll deleted rows = %d (%v)", deleted, all.Err())
	}

	// Malformed SOQL surfaces as a typed error.
	bad := o.c.Query(ctx, "SELEKT Id FROM Lead", nil)
	var ae *APIError
	if bad.Next() || !errors.As(bad.Err(), &ae) || ae.Code != "MALFORMED_QUERY" {
		t.Fatalf("malformed query err = %v", bad.Err())
	}
}

// TestEmuSOQLLiteralProperty: any valid string, stored as a LastName and
// searched with the builder's literal, finds exactly that record.
func TestEmuSOQLLiteralProperty(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	d, err := o.c.Describe(ctx, "Lead")
	if err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(t *rapid.T) {
		// LastName is an 80-character text field; Salesforce trims
		// nothing but treats blank as missing, so keep one visible rune.
		s := rapid.StringOfN(rapid.Rune(), 0, 70, -1).Draw(t, "s") + "x"
		id, err := o.c.Create(ctx, "Lead", Record{"LastName": s, "Company": "Prop"})
		if err != nil {
			t.Fatalf("create %q: %v", s, err)
		}
		soql, err := Select("Id", "LastName").From("Lead").Where(And(Eq("LastName", s), Eq("Company", "Prop"))).Build(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.c.QueryRecords(ctx, soql)
		if err != nil {
			t.Fatalf("query %q: %v", soql, err)
		}
		if len(got) != 1 || got[0].ID() != id || got[0]["LastName"] != s {
			t.Fatalf("query %q found %v, want only %s", soql, got, id)
		}
		if err := o.c.Delete(ctx, "Lead", id); err != nil {
			t.Fatal(err)
		}
	})
}

func TestEmuComposite(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	res, err := o.c.Composite(ctx, CompositeRequest{AllOrNone: true, Requests: []Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "refAcct", Body: Record{"Name": "Composite Inc"}},
		{Method: "POST", URL: o.c.DataPath("sobjects/Contact"), ReferenceID: "refCt", Body: Record{"LastName": "Doe", "AccountId": Ref("refAcct", "id")}},
		{Method: "GET", URL: "sobjects/Contact/" + Ref("refCt", "id") + "?fields=AccountId", ReferenceID: "getCt"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if err := r.Err(); err != nil {
			t.Fatalf("%s: %v", r.ReferenceID, err)
		}
	}
	var acct SaveResult
	var ct Record
	if err := res[0].Decode(&acct); err != nil {
		t.Fatal(err)
	}
	if err := res[2].Decode(&ct); err != nil {
		t.Fatal(err)
	}
	if ct["AccountId"] != acct.ID {
		t.Fatalf("contact's AccountId %v, want %s", ct["AccountId"], acct.ID)
	}
	// allOrNone with a failure: the others report PROCESSING_HALTED.
	res, err = o.c.Composite(ctx, CompositeRequest{AllOrNone: true, Requests: []Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "ok", Body: Record{"Name": "Fine"}},
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "bad", Body: Record{"Nope__c": 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ae *APIError
	if !errors.As(res[0].Err(), &ae) || ae.Code != CodeProcessingHalted {
		t.Fatalf("first subrequest: %v", res[0].Err())
	}
	if res[1].Err() == nil {
		t.Fatal("bad subrequest succeeded")
	}
}

func TestEmuFaults(t *testing.T) {
	o := newEmuOrg(t, nil)
	ctx := context.Background()
	c := o.c
	recs := leads(400, func(i int) string { return fmt.Sprintf("f%d", i) })

	// A 503 on the first collections call is retried (PATCH upsert is idempotent).
	o.e.AddFault(emulator.Fault{Method: "PATCH", Path: "/services/data/*/composite/sobjects/**", Status: 503, Count: 1})
	res, err := c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs[:200], nil)
	if err != nil || !res[0].Success {
		t.Fatalf("after a 503: %v", err)
	}

	// Sessions expire in the middle of a batch: one renewal, the batch completes.
	o.e.ClearFaults()
	before := o.callsOf(KindOAuth)
	o.e.AddFault(emulator.Fault{Type: emulator.FaultExpireSessions, Path: "/services/data/*/composite/sobjects/**", Count: 1})
	res, err = c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs, &CollectionOptions{ChunkSize: 100, Concurrency: 2})
	if err != nil {
		t.Fatalf("401 mid-batch: %v", err)
	}
	for i, r := range res {
		if !r.Success {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	if n := o.callsOf(KindOAuth) - before; n != 1 {
		t.Fatalf("%d token calls after the sessions expired, want 1", n)
	}

	// Lock contention: per-record UNABLE_TO_LOCK_ROW, retryable.
	o.e.ClearFaults()
	o.e.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Path: "/services/data/*/composite/sobjects/**", Count: 1})
	res, err = c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs[:5], nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Success || !Retryable(res[0].Error()) {
		t.Fatalf("lock row result: %+v", res[0])
	}
	var ae *APIError
	o.e.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Method: "GET", Path: "/services/data/*/limits", Count: 10})
	_, err = c.Limits(ctx)
	if !errors.As(err, &ae) || ae.Code != CodeUnableToLockRow {
		t.Fatalf("lock row on REST: %v", err)
	}

	// The daily limit exhausted: 403 REQUEST_LIMIT_EXCEEDED, not retried.
	o.e.ClearFaults()
	o.e.SetAPIUsage(1000, 1000)
	before = len(o.calls)
	_, err = c.Limits(ctx)
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != CodeRequestLimitExceeded || ae.Retryable() {
		t.Fatalf("limit exhausted: %v", err)
	}
	if n := len(o.calls) - before; n != 1 {
		t.Fatalf("exhausted limit tried %d times", n)
	}
	o.e.SetAPIUsage(0, 100000)

	// Connection dropped after a create committed: not retried, the record exists once.
	o.e.AddFault(emulator.Fault{Type: emulator.FaultDropAfterCommit, Method: "POST", Path: "/services/data/*/sobjects/Lead", Count: 1})
	_, err = c.Create(ctx, "Lead", Record{"LastName": "Dropped", "Company": "Once"})
	if err == nil {
		t.Fatal("create over a dropped connection reported success")
	}
	got, err := c.QueryRecords(ctx, "SELECT Id FROM Lead WHERE LastName = 'Dropped'")
	if err != nil || len(got) != 1 {
		t.Fatalf("dropped create left %d records (%v), want exactly 1", len(got), err)
	}
	// The same fault on an upsert is retried safely: one record.
	o.e.AddFault(emulator.Fault{Type: emulator.FaultDropAfterCommit, Method: "PATCH", Path: "/services/data/*/sobjects/Lead/Ext_Id__c/*", Count: 1})
	up, err := c.Upsert(ctx, "Lead", "Ext_Id__c", "drop-1", Record{"LastName": "Dropped2", "Company": "Once"})
	if err != nil || up.ID == "" {
		t.Fatalf("upsert after drop: %+v %v", up, err)
	}
	got, _ = c.QueryRecords(ctx, "SELECT Id FROM Lead WHERE LastName = 'Dropped2'")
	if len(got) != 1 {
		t.Fatalf("upsert after drop left %d records", len(got))
	}
}

func TestEmuOAuthFlows(t *testing.T) {
	e, err := emulator.New(emuConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	ctx := context.Background()

	// Web-server flow with PKCE and state; the emulator approves at once.
	flow := &WebFlow{LoginURL: srv.URL, ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
		RedirectURL: "http://127.0.0.1:9/callback", Scopes: []string{"api", "refresh_token"}}
	state, verifier := NewState(), oauth2.GenerateVerifier()
	u := flow.AuthCodeURL(state, verifier)
	if strings.Contains(u, verifier) || !strings.Contains(u, "code_challenge_method=S256") {
		t.Fatalf("authorize URL %s", u)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !CheckState(loc.Query().Get("state"), state) || CheckState("forged", state) {
		t.Fatal("state check")
	}
	if _, err := flow.Exchange(ctx, loc.Query().Get("code"), oauth2.GenerateVerifier()); err == nil {
		t.Fatal("exchange with the wrong verifier succeeded")
	}
	resp, _ = noFollow.Get(flow.AuthCodeURL(state, verifier))
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	tok, err := flow.Exchange(ctx, loc.Query().Get("code"), verifier)
	if err != nil || tok.RefreshToken == "" || tok.Extra("instance_url") == nil {
		t.Fatalf("exchange: %v", err)
	}
	var persisted []*oauth2.Token
	var pmu sync.Mutex
	c, err := NewClient(ctx, Config{LoginURL: srv.URL, Auth: flow.Auth(tok),
		Hooks: Hooks{OnToken: func(t *oauth2.Token) { pmu.Lock(); persisted = append(persisted, t); pmu.Unlock() }}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Identity(ctx)
	fromTok, ok := IdentityFromToken(tok)
	if err != nil || !ok || id.OrgID != e.OrgID() || id.OrgID != fromTok.OrgID || id.UserID != fromTok.UserID || id.Username != emulator.DefaultUsername {
		t.Fatalf("identity %+v / %+v (%v)", id, fromTok, err)
	}
	// Expired session: the refresh token renews it transparently.
	e.ExpireSessions()
	if _, err := c.Limits(ctx); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	// Revoked refresh token: re-authorization needed, no loop.
	if err := c.Revoke(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = c.Limits(ctx)
	var ae *AuthError
	if !errors.As(err, &ae) || !ae.Reauthorize {
		t.Fatalf("after revoke: %v", err)
	}
	if strings.Contains(err.Error(), tok.RefreshToken) {
		t.Fatal("error shows the refresh token")
	}

	// Client credentials: fine on the emulator's own host, refused on login./test.
	cc, err := NewClient(ctx, Config{LoginURL: srv.URL, Auth: ClientCredentials{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret}})
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	if _, err := cc.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{ProductionLoginURL, SandboxLoginURL} {
		_, err := NewClient(ctx, Config{LoginURL: host, HTTPClient: &http.Client{Transport: failTransport{t}},
			Auth: ClientCredentials{ClientID: "x", ClientSecret: "y"}})
		if !errors.As(err, &ae) || ae.Code != "unsupported_host" {
			t.Fatalf("client credentials on %s: %v", host, err)
		}
	}

	// JWT bearer.
	jc, err := NewClient(ctx, Config{LoginURL: srv.URL, Auth: JWTBearer{ClientID: "jwt-app", Username: emulator.DefaultUsername, PrivateKey: testKey()}})
	if err != nil {
		t.Fatalf("jwt: %v", err)
	}
	e.ExpireSessions()
	if _, err := jc.Limits(ctx); err != nil {
		t.Fatalf("jwt re-mint: %v", err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, err = NewClient(ctx, Config{LoginURL: srv.URL, Auth: JWTBearer{ClientID: "jwt-app", Username: emulator.DefaultUsername, PrivateKey: other}})
	if !errors.As(err, &ae) || !ae.Reauthorize {
		t.Fatalf("jwt with a foreign key: %v", err)
	}

	// Password flow with a wrong password.
	_, err = NewClient(ctx, Config{LoginURL: srv.URL, Auth: Password{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret, Username: emulator.DefaultUsername, Password: "wrong"}})
	if !errors.As(err, &ae) || ae.Code != "invalid_grant" || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad password: %v", err)
	}

	// A plain access token, with its instance URL.
	pc, err := NewClient(ctx, Config{LoginURL: srv.URL, InstanceURL: srv.URL, APIVersion: "60.0", Auth: StaticToken{AccessToken: jc.Token().AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Limits(ctx); err != nil {
		t.Fatal(err)
	}
	e.ExpireSessions()
	_, err = pc.Limits(ctx)
	if !errors.As(err, &ae) || !ae.Reauthorize {
		t.Fatalf("static token after expiry: %v", err)
	}
}

// failTransport fails the test if any request is made.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request to %s", r.URL)
	return nil, errors.New("no requests allowed")
}

// BenchmarkUpsertMany measures records/s upserted through Collections
// against the emulator on loopback, 200 records a call.
func BenchmarkUpsertMany(b *testing.B) {
	o := newEmuOrg(b, nil)
	ctx := context.Background()
	const n = 2000
	recs := leads(n, func(i int) string { return fmt.Sprintf("b%d", i) })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := o.c.UpsertMany(ctx, "Lead", "Ext_Id__c", recs, nil)
		if err != nil || !res[n-1].Success {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeCollection measures the client's own cost per record of
// building a 200-record Collections body (the emulator benchmark above
// also counts the in-process server's allocations).
func BenchmarkEncodeCollection(b *testing.B) {
	recs := leads(200, func(i int) string { return fmt.Sprintf("b%d", i) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeCollection("Lead", false, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "records/s")
}
