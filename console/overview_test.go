package console_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"golang.org/x/crypto/bcrypt"
)

// mappingState returns the text of the overview's State cell of mapping,
// tags stripped.
func mappingState(t *testing.T, html, mapping string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<th scope="row">` + mapping + `</th>\s*<td>.*?</td>\s*<td>(.*?)</td>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no row of %s on the overview:\n%s", mapping, html)
	}
	return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(strings.ReplaceAll(m[1], "<br>", " "), "")), " ")
}

// TestOverviewShowsFailingPushes: while every push of a mapping fails
// (Salesforce refusing every call, an outage, a failing login), the
// overview says so with the last error and since when, instead of
// "running"; once a push gets through, the mapping runs again.
func TestOverviewShowsFailingPushes(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	ctx := context.Background()
	// fail claims the mapping's due records and completes them as a batch
	// the engine pushed, each failing with state and code.
	push := func(state forcesync.State, code string) {
		t.Helper()
		items, err := f.store.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 10, Now: f.clk.Now()})
		if err != nil || len(items) == 0 {
			t.Fatalf("claim: %d items, %v", len(items), err)
		}
		run := &forcesync.Run{Mapping: "leads", API: "collections", Started: f.clk.Now(), Finished: f.clk.Now(), Records: len(items), APICalls: 1}
		outs := make([]forcesync.Outcome, len(items))
		for i, it := range items {
			outs[i] = forcesync.Outcome{Item: it, State: state}
			switch state {
			case forcesync.StateSynced:
				outs[i].SalesforceID, outs[i].Fingerprint = "00Q00000000000"+it.Key, "fp"
				run.Created++
			default:
				outs[i].Error = &forcesync.RecordError{Code: code, Message: "Salesforce said no"}
				outs[i].NextAttempt = f.clk.Now() // due again at once, for the next push
				run.Failed++
			}
		}
		if err := f.store.Complete(ctx, "w", outs, run); err != nil {
			t.Fatal(err)
		}
	}
	f.accept(forcesync.Change{Key: "k1", Fields: map[string]any{"email": "a@example.com"}})
	f.accept(forcesync.Change{Key: "k2", Fields: map[string]any{"email": "b@example.com"}})
	start := f.clk.Now()
	push(forcesync.StateRetrying, "SERVER_UNAVAILABLE")
	f.clk.Advance(time.Minute)
	push(forcesync.StateRetrying, "SERVER_UNAVAILABLE")

	got := mappingState(t, body(t, f.do("GET", "/", nil, ck, nil)), "leads")
	want := "retrying every record of the last 2 runs failed since " + start.UTC().Format("2006-01-02 15:04:05 UTC") + " SERVER_UNAVAILABLE: Salesforce said no"
	if got != want {
		t.Fatalf("overview state while every push fails:\n got %q\nwant %q", got, want)
	}
	// The same on the mappings page.
	if got := mappingState(t, body(t, f.do("GET", "/mappings", nil, ck, nil)), "leads"); got != want {
		t.Fatalf("mappings page state: %q", got)
	}

	// Salesforce takes them: running again.
	f.clk.Advance(time.Minute)
	push(forcesync.StateSynced, "")
	if got := mappingState(t, body(t, f.do("GET", "/", nil, ck, nil)), "leads"); got != "running" {
		t.Fatalf("overview state after a push got through: %q", got)
	}

	// Every record held (a rule refusing them all) is failing, not retrying.
	f.accept(forcesync.Change{Key: "k3", Fields: map[string]any{"email": "c@example.com"}})
	f.clk.Advance(time.Minute)
	push(forcesync.StateHeld, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
	if got := mappingState(t, body(t, f.do("GET", "/", nil, ck, nil)), "leads"); !strings.HasPrefix(got, "failing every record of the last run failed") ||
		!strings.HasSuffix(got, "FIELD_CUSTOM_VALIDATION_EXCEPTION: Salesforce said no") {
		t.Fatalf("overview state when every record is held: %q", got)
	}
}

// TestOverviewShowsConnectionTrouble: a connection whose login fails or
// whose org does not answer (what /healthz and forcesync_salesforce_up
// report) makes its mappings failing on the overview, with the reason.
func TestOverviewShowsConnectionTrouble(t *testing.T) {
	f := newFixture(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	since := f.clk.Now().Add(-time.Hour)
	if f.c, err = console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}},
		Mappings:    []forcesync.Mapping{{Name: "leads", Source: "contact", Object: "Lead"}},
		Connections: []forcesync.Connection{{Name: "org"}},
		Health: func() []console.ConnectionHealth {
			return []console.ConnectionHealth{{Connection: "org", Reason: "login fails: invalid_grant", Since: since}}
		}}); err != nil {
		t.Fatal(err)
	}
	ck := f.signIn()
	got := mappingState(t, body(t, f.do("GET", "/", nil, ck, nil)), "leads")
	if want := "failing login fails: invalid_grant since " + since.UTC().Format("2006-01-02 15:04:05 UTC"); got != want {
		t.Fatalf("overview state:\n got %q\nwant %q", got, want)
	}
}

// twoOrgs is an engine per connection, the first one paused by its budget.
type twoOrgs struct{ fakeEngine }

func (e *twoOrgs) Paused() string { return "eu: API budget spent" }
func (e *twoOrgs) PausedOf(conn string) string {
	if conn == "eu" {
		return "API budget spent"
	}
	return ""
}

// TestOverviewPauseOfOneConnection: the budget pause of one org is shown
// on the mappings that push through it, not on another org's.
func TestOverviewPauseOfOneConnection(t *testing.T) {
	f := newFixture(t)
	var err error
	if f.c, err = console.New(console.Config{Store: f.store, Engine: &twoOrgs{}, Now: f.clk.Now,
		Admins: f.admins, Sources: []console.Source{{Name: "contact"}},
		Mappings: []forcesync.Mapping{{Name: "eu_leads", Source: "contact", Object: "Lead", Connection: "eu"},
			{Name: "us_leads", Source: "contact", Object: "Lead", Connection: "us"}},
		Connections: []forcesync.Connection{{Name: "eu"}, {Name: "us"}}}); err != nil {
		t.Fatal(err)
	}
	ck := f.signIn()
	html := body(t, f.do("GET", "/", nil, ck, nil))
	if got := mappingState(t, html, "eu_leads"); got != "paused API budget spent" {
		t.Errorf("eu_leads: %q", got)
	}
	if got := mappingState(t, html, "us_leads"); got != "running" {
		t.Errorf("us_leads: %q, want running (its org is not paused)", got)
	}
}
