package console_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/mapping"
	"golang.org/x/crypto/bcrypt"
)

// newPreviewFixture is newFixture whose mapping leads is compiled against
// leadDescribe, so record pages preview payloads as serve's do.
func newPreviewFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	m := forcesync.Mapping{Name: "leads", Source: "contact", Object: "Lead", Connection: "org",
		Match: forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Key__c"},
		Fields: []forcesync.FieldRow{{Target: "LastName", SourceField: "last_name", Default: "Unknown", On: forcesync.Always},
			{Target: "Email", SourceField: "email", On: forcesync.Always}}}
	desc, err := leadDescribe{}.Describe(context.Background(), "org", "Lead")
	if err != nil {
		t.Fatal(err)
	}
	comp, err := mapping.Compile(m, desc)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if f.c, err = console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}},
		Mappings: []forcesync.Mapping{m}, Connections: []forcesync.Connection{{Name: "org"}},
		Compiled: map[string]*mapping.Compiled{"leads": comp}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) accept(ch forcesync.Change) {
	f.t.Helper()
	ch.Source = "contact"
	if _, err := f.store.Accept(context.Background(), []string{"leads"}, []forcesync.Change{ch}); err != nil {
		f.t.Fatal(err)
	}
}

// TestRecordPageDeletedRecordHasNoPayload: a record the application
// deleted is sent as a delete; its page must not preview a create made of
// its empty fields (the mapping's defaults alone).
func TestRecordPageDeletedRecordHasNoPayload(t *testing.T) {
	f := newPreviewFixture(t)
	ck := f.signIn()
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Lovelace", "email": "ada@example.com"}})
	html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	if !strings.Contains(html, "&#34;LastName&#34;: &#34;Lovelace&#34;") {
		t.Fatalf("a live record's page lacks its payload:\n%s", html)
	}
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpDelete})
	html = body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	if strings.Contains(html, "&#34;LastName&#34;") || !strings.Contains(html, "The application deleted this record") {
		t.Fatalf("a deleted record's page previews a payload:\n%s", html)
	}
}

// TestRecordPageShowsWhatThePayloadCut: a value cut to fit its field is
// said beside the payload, as the engine warns when it sends it.
func TestRecordPageShowsWhatThePayloadCut(t *testing.T) {
	f := newPreviewFixture(t)
	ck := f.signIn()
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": strings.Repeat("x", 90)}})
	html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	if !strings.Contains(html, "Changed to fit: LastName truncated from 90 to 80 characters") {
		t.Fatalf("record page does not say the last name was cut:\n%s", html)
	}
}

// TestRecordFieldsEditRefusesWhatItWouldDrop: the fields box takes one
// JSON object; text after it, or another kind of value, is refused with
// the reason and the record keeps its fields.
func TestRecordFieldsEditRefusesWhatItWouldDrop(t *testing.T) {
	f := newPreviewFixture(t)
	ck := f.signIn()
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Lovelace"}})
	for text, want := range map[string]string{
		`{"last_name": "Byron"} {"email": "ada@example.com"}`: "there is more text after its closing }",
		`{"last_name": "Byron"}, "email": "ada@example.com"}`: "there is more text after its closing }",
		`[{"last_name": "Byron"}]`:                            "not an array",
		`null`:                                                "not null",
		"  ":                                                  "the box is empty",
		// The stores read fields as float64: 1e400 would stall the mapping.
		`{"last_name": "Byron", "address": {"zip": 1e400}}`: "address.zip: 1e400 is too large a number",
		`{"scores": [1, -2e999]}`:                           "scores[1]: -2e999 is too large a number",
	} {
		res := f.do("POST", "/records/contact/k1/fields", url.Values{"fields": {text}}, ck, nil)
		html := body(t, res)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(html, "Fields ") || !strings.Contains(html, want) {
			t.Errorf("fields %q: %d, want %q in:\n%s", text, res.StatusCode, want, html)
		}
	}
	rec, err := f.store.SourceRecord(context.Background(), "contact", "k1")
	if err != nil || rec.Version != 1 || rec.Fields["last_name"] != "Lovelace" {
		t.Fatalf("a refused edit changed the record: %+v %v", rec, err)
	}
	res := f.do("POST", "/records/contact/k1/fields", url.Values{"fields": {"{\"last_name\": \"Byron\"}\n"}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("one object and a newline: %d", res.StatusCode)
	}
}

// TestRecordPageOfARecordDeletedInSalesforce: a record a pull saw deleted
// in Salesforce reads deleted, with no Salesforce Id, not synced with the
// Id that is gone.
func TestRecordPageOfARecordDeletedInSalesforce(t *testing.T) {
	f := newPreviewFixture(t)
	ck := f.signIn()
	ctx := context.Background()
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Lovelace"}})
	items, err := f.store.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: "w", Lease: time.Minute, Limit: 1, Now: f.clk.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim %v %v", items, err)
	}
	const id = "00Q5e00000000GGEAY"
	if err := f.store.Complete(ctx, "w", []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: id, Fingerprint: "fp"}},
		&forcesync.Run{Mapping: "leads", API: "collections"}); err != nil {
		t.Fatal(err)
	}
	if html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil)); !strings.Contains(html, id) {
		t.Fatalf("a synced record's page lacks its Salesforce Id:\n%s", html)
	}
	if err := f.store.CommitPull(ctx, &forcesync.PullCommit{Mapping: "leads", Source: "contact", Now: f.clk.Now(),
		Watermark: forcesync.Watermark{Instant: f.clk.Now(), Seen: map[string]time.Time{}},
		Records: []forcesync.PulledRecord{{Key: "k1", SalesforceID: id, ExpectFingerprint: "fp", ExpectVersion: 1,
			Unbind: true, DeleteSource: true, Modstamp: f.clk.Now()}}}); err != nil {
		t.Fatal(err)
	}
	html := body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	// (The history still lists the attempt that synced it, with its Id.)
	if !strings.Contains(html, `leads <span class="state state-deleted">deleted</span>`) ||
		!strings.Contains(html, "<dt>Salesforce Id</dt><dd>none: the Salesforce record was deleted</dd>") {
		t.Fatalf("the page of a record deleted in Salesforce:\n%s", html)
	}
}

// TestRecordPageUnreadableFields: a record stored with a number the store
// cannot read back (1e400, from before the doors refused it) has a page
// that names the field, with the fields as stored in the editor; saving
// them corrected makes the record readable again.
func TestRecordPageUnreadableFields(t *testing.T) {
	f := newPreviewFixture(t)
	ck := f.signIn()
	f.accept(forcesync.Change{Key: "k1", Op: forcesync.OpUpsert, Fields: map[string]any{"last_name": "Lovelace"}})
	db, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE source_records SET fields = '{"last_name":"Lovelace","amount":1e400}' WHERE key = 'k1'`); err != nil {
		t.Fatal(err)
	}
	res := f.do("GET", "/records/contact/k1", nil, ck, nil)
	html := body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(html, forcesync.CodeUnreadableRecord) ||
		!strings.Contains(html, "stored field amount holds 1e400") || !strings.Contains(html, "&#34;amount&#34;: 1e400") {
		t.Fatalf("page of an unreadable record (%d):\n%s", res.StatusCode, html)
	}
	res = f.do("POST", "/records/contact/k1/fields", url.Values{"fields": {`{"last_name": "Lovelace", "amount": "1e400"}`}}, ck, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving corrected fields: %d %s", res.StatusCode, body(t, res))
	}
	html = body(t, f.do("GET", "/records/contact/k1", nil, ck, nil))
	if strings.Contains(html, forcesync.CodeUnreadableRecord) || !strings.Contains(html, "&#34;LastName&#34;: &#34;Lovelace&#34;") {
		t.Fatalf("page after the fix:\n%s", html)
	}
}
