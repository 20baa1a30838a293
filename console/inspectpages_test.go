package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"golang.org/x/crypto/bcrypt"
)

// newInspectFixture is newFixture with the guard's approval wired to the
// store (as serve wires engine.Approve) and a record of approvals.
func newInspectFixture(t *testing.T) (*fixture, *[]string) {
	f := newFixture(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var approved []string
	c, err := console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins:      []console.Admin{{Username: "alice", PasswordHash: string(hash)}},
		Sources:     []console.Source{{Name: "contact"}},
		Mappings:    []forcesync.Mapping{{Name: "leads", Source: "contact", Object: "Lead", Connection: "org", Fields: []forcesync.FieldRow{{Target: "Email", SourceField: "email"}}}},
		Connections: []forcesync.Connection{{Name: "org"}},
		Approve: func(ctx context.Context, m string) (int, error) {
			approved = append(approved, m)
			if _, err := f.store.GuardApprove(ctx, m, f.clk.Now(), f.clk.Now().Add(time.Hour)); err != nil {
				return 0, err
			}
			return f.store.Requeue(ctx, m, nil)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f, &approved
}

// TestRecordPageShowsHistory: each attempt Complete recorded is on the
// record's page, with its error and fingerprint.
func TestRecordPageShowsHistory(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	f.held("k1", "bad")
	f.clk.Advance(time.Minute)
	f.held("k1", "worse")
	html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	if !strings.Contains(html, "History") || strings.Count(html, "<code>INVALID_EMAIL_ADDRESS</code> Email: invalid email address") != 2 ||
		!strings.Contains(html, "invalid email address: worse") || !strings.Contains(html, `title="fp"`) {
		t.Fatalf("record page lacks its history:\n%s", html)
	}
	// Newest first.
	if strings.Index(html, "address: worse") > strings.Index(html, "address: bad</td>") {
		t.Fatalf("history not newest first:\n%s", html)
	}
}

// TestGuardPageApproves: a paused mapping shows Approve; approving it
// calls the approval and comes back with what it requeued; an unknown
// mapping is refused.
func TestGuardPageApproves(t *testing.T) {
	f, approved := newInspectFixture(t)
	ck := f.signIn()
	ctx := context.Background()
	if _, ok, err := f.store.GuardTake(ctx, forcesync.GuardRequest{Name: "leads", N: 5, Limit: 2, Window: time.Hour, Now: f.clk.Now()}); err != nil || ok {
		t.Fatalf("GuardTake: %v %v", ok, err)
	}
	html := body(t, f.do("GET", "/guard", nil, ck, nil))
	if !strings.Contains(html, `id="approve-leads"`) || !strings.Contains(html, "state-paused") {
		t.Fatalf("guard page:\n%s", html)
	}
	res := f.do("POST", "/guard/approve", url.Values{"mapping": {"nope"}}, ck, nil)
	if res.StatusCode != http.StatusBadRequest || len(*approved) != 0 {
		t.Fatalf("unknown mapping approved: %d %v", res.StatusCode, *approved)
	}
	res = f.do("POST", "/guard/approve", url.Values{"mapping": {"leads"}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther || len(*approved) != 1 || !strings.HasPrefix(res.Header.Get("Location"), "/guard?approved=") {
		t.Fatalf("approve: %d %q %v", res.StatusCode, res.Header.Get("Location"), *approved)
	}
	html = body(t, f.do("GET", res.Header.Get("Location"), nil, ck, nil))
	if !strings.Contains(html, "Approved leads") || strings.Contains(html, `id="approve-leads"`) {
		t.Fatalf("guard page after approving:\n%s", html)
	}
	// The notice comes from the URL: a crafted one states nothing.
	for _, q := range []string{"approved=5000&mapping=" + url.QueryEscape("everything, call +1 555"), "approved=all&mapping=leads"} {
		if html := body(t, f.do("GET", "/guard?"+q, nil, ck, nil)); strings.Contains(html, "Approved") {
			t.Errorf("guard page for %s states an approval:\n%s", q, html)
		}
	}
}

// TestMassChangePausedAdvice: records the guard paused are explained as
// waiting for an approval, not as data to correct.
func TestMassChangePausedAdvice(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	ctx := context.Background()
	if _, err := f.store.Accept(ctx, []string{"leads"}, []forcesync.Change{{Source: "contact", Key: "k1", Op: forcesync.OpDelete}}); err != nil {
		t.Fatal(err)
	}
	items, err := f.store.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 10, Now: f.clk.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v %d", err, len(items))
	}
	if err := f.store.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateHeld,
		Error: &forcesync.RecordError{Code: "MASS_CHANGE_PAUSED", Message: "held until approved"}}}, nil); err != nil {
		t.Fatal(err)
	}
	html := body(t, f.do("GET", "/failures", nil, ck, nil))
	if !strings.Contains(html, "MASS_CHANGE_PAUSED</code> in leads") || !strings.Contains(html, "approve them on the Guard page") {
		t.Fatalf("failures page:\n%s", html)
	}
}

// TestReconcilePages lists stored runs and one run's findings.
func TestReconcilePages(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	run := &forcesync.ReconcileRun{Mapping: "leads", Started: f.clk.Now(), Finished: f.clk.Now(), Checked: 3, API: "query", APICalls: 1,
		Counts: map[forcesync.DriftKind]int{forcesync.DriftFieldChanged: 1}}
	if err := f.store.SaveReconcile(context.Background(), run, []forcesync.Finding{{Mapping: "leads", Key: "k9", SalesforceID: "00Q000000000001AAA",
		Kind: forcesync.DriftFieldChanged, Fields: []forcesync.FieldDrift{{Field: "LastName", Salesforce: "Byron", Expected: "Lovelace"}}}}); err != nil {
		t.Fatal(err)
	}
	html := body(t, f.do("GET", "/reconcile", nil, ck, nil))
	if !strings.Contains(html, `href="/reconcile/1"`) || !strings.Contains(html, "field_changed: 1") || strings.Contains(html, "reconcile-go") {
		t.Fatalf("reconcile page (no Inspect: no button):\n%s", html)
	}
	html = body(t, f.do("GET", "/reconcile/1", nil, ck, nil))
	if !strings.Contains(html, "k9") || !strings.Contains(html, "Byron → Lovelace") {
		t.Fatalf("run page:\n%s", html)
	}
	if res := f.do("GET", "/reconcile/99", nil, ck, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown run: %d", res.StatusCode)
	}
	if res := f.do("GET", "/plan", nil, ck, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("plan without Inspect: %d", res.StatusCode)
	}
	if html := body(t, f.do("GET", "/pull", nil, ck, nil)); !strings.Contains(html, "No mapping pulls from Salesforce") {
		t.Fatalf("pull page:\n%s", html)
	}
}

// fakeFeed serves one mapping's dead letters and records redeliveries.
type fakeFeed struct {
	mu     sync.Mutex
	dead   []forcesync.Delivery
	called [][]int64
}

func (f *fakeFeed) Conflicts(context.Context, string, string) ([]forcesync.Conflict, error) {
	return nil, nil
}
func (f *fakeFeed) DeadLetters(_ context.Context, m string, _ int) ([]forcesync.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dead), nil
}
func (f *fakeFeed) Redeliver(_ context.Context, m string, seqs []int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called = append(f.called, seqs)
	n := len(seqs)
	if n == 0 {
		n = len(f.dead)
	}
	return n, nil
}

// The Pull page lists a webhook's dead letters with a box each: the ticked
// ones, or all of them, are put back for delivery; a request naming no
// dead letter, a bad cursor or a mapping without a webhook is refused,
// naming the field.
func TestPullPageRedeliversDeadLetters(t *testing.T) {
	f := newFixture(t)
	feed := &fakeFeed{dead: []forcesync.Delivery{
		{Sink: "webhook:members", Change: forcesync.PulledChange{Seq: 7, Source: "contact", Key: "k7", Op: forcesync.PulledUpsert}, Attempts: 8, LastError: "HTTP 503", Dead: true},
		{Sink: "webhook:members", Change: forcesync.PulledChange{Seq: 9, Source: "contact", Key: "k9", Op: forcesync.PulledUpsert}, Attempts: 8, LastError: "HTTP 503", Dead: true},
	}}
	hook := &forcesync.PullConfig{Into: []string{forcesync.SinkWebhook}, Webhook: &forcesync.Webhook{URL: "http://127.0.0.1:1/hook"}}
	c, err := console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now, Admins: f.admins,
		Sources: []console.Source{{Name: "contact"}},
		Mappings: []forcesync.Mapping{
			{Name: "members", Source: "contact", Object: "Contact", Connection: "org", Direction: forcesync.Both, Pull: hook,
				Fields: []forcesync.FieldRow{{Target: "Email", SourceField: "email"}}},
			{Name: "leads", Source: "contact", Object: "Lead", Connection: "org", Fields: []forcesync.FieldRow{{Target: "Email", SourceField: "email"}}},
		},
		Connections: []forcesync.Connection{{Name: "org"}},
		Pull:        feed,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	ck := f.signIn()
	html := body(t, f.do("GET", "/pull", nil, ck, nil))
	for _, want := range []string{`name="seq" value="7"`, `name="seq" value="9"`, "Redeliver selected", `name="all"`} {
		if !strings.Contains(html, want) {
			t.Fatalf("pull page lacks %q:\n%s", want, html)
		}
	}
	res := f.do("POST", "/pull/redeliver", url.Values{"mapping": {"members"}, "seq": {"9"}}, ck, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/pull?done=redeliver&n=1") {
		t.Fatalf("redeliver one: %d %s", res.StatusCode, loc)
	}
	if html := body(t, f.do("GET", "/pull?done=redeliver&n=1", nil, ck, nil)); !strings.Contains(html, "Put 1 dead letters back for delivery") {
		t.Fatalf("no notice after redeliver:\n%s", html)
	}
	res = f.do("POST", "/pull/redeliver", url.Values{"mapping": {"members"}, "all": {"1"}, "seq": {"7"}}, ck, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/pull?done=redeliver&n=2") {
		t.Fatalf("redeliver all: %d %s", res.StatusCode, loc)
	}
	for _, c := range []struct {
		form  url.Values
		code  int
		field string
	}{
		{url.Values{"mapping": {"members"}}, http.StatusBadRequest, "tick at least one"},
		{url.Values{"mapping": {"members"}, "seq": {"x"}}, http.StatusBadRequest, "seq"},
		{url.Values{"mapping": {"members"}, "seq": {"0"}}, http.StatusBadRequest, "seq"},
		{url.Values{"mapping": {"leads"}, "all": {"1"}}, http.StatusNotFound, "mapping"},
		{url.Values{"mapping": {"nope"}, "all": {"1"}}, http.StatusNotFound, "mapping"},
	} {
		res := f.do("POST", "/pull/redeliver", c.form, ck, nil)
		if html := body(t, res); res.StatusCode != c.code || !strings.Contains(html, c.field) {
			t.Errorf("redeliver %v: %d, want %d naming %q:\n%s", c.form, res.StatusCode, c.code, c.field, html)
		}
	}
	if res := f.do("POST", "/pull/redeliver", url.Values{"mapping": {"members"}, "all": {"1"}}, nil, nil); res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/pull?done") {
		t.Fatal("redelivered without signing in")
	}
	feed.mu.Lock()
	defer feed.mu.Unlock()
	if len(feed.called) != 2 || !slices.Equal(feed.called[0], []int64{9}) || feed.called[1] != nil {
		t.Fatalf("redeliveries asked: %v, want [[9] all]", feed.called)
	}
}
