package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/examples/webhookreceiver"
)

// pullConfig is docs/cookbook.md's two-way story ("A sales rep's edit
// reaches the application"), with the emulator and the receiver's URLs.
const pullConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
connections:
  - name: org
    login_url: %s
    auth: password
    client_id: forcesync-demo
    client_secret: ${TEST_SF_SECRET}
    username: admin@forcesync.local
    password_env: TEST_SF_PASSWORD
sources:
  - name: client
mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    direction: both
    match:
      external_id: Forcesync_Key__c
    pull:
      poll_interval: 50ms
      conflict: newest_wins
      into: [source, changes, webhook]
      webhook:
        url: %s
        secret_env: WEBHOOK_SECRET
    fields:
      - target: LastName
        source: last_name
      - target: Company
        value: Trading Clients
        on: create
        direction: push
      - target: Phone
        source: phone
      - target: Title
        source: title
        direction: pull
`

// TestServeWebhookStory: a record pushed by serve, edited in Salesforce by
// a sales rep, reaches the application's webhook receiver signed, shows in
// the source record and the changes feed, and is not pushed back.
func TestServeWebhookStory(t *testing.T) {
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)
	var mu sync.Mutex
	var got []webhookreceiver.Event
	arrived := make(chan struct{}, 100)
	recv := httptest.NewServer(webhookreceiver.Handler("whsec_c2VjcmV0LWZvci10ZXN0cw==", func(ev webhookreceiver.Event) error {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		arrived <- struct{}{}
		return nil
	}))
	t.Cleanup(recv.Close)
	s := startServeWith(t, emu, fmt.Sprintf(pullConfig, sf.URL, recv.URL), map[string]string{"WEBHOOK_SECRET": "whsec_c2VjcmV0LWZvci10ZXN0cw=="})

	code, _ := s.do("POST", "/api/v1/sources/client/records", `[{"key":"c1","fields":{"last_name":"Ada","phone":"111"}}]`, true)
	if code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	id := s.waitState("c1", "synced")["salesforce_id"].(string)

	// The rep fixes the phone number in Salesforce.
	if err := emu.UpdateAs("Lead", id, map[string]any{"Phone": "555-0100", "Title": "CFO"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook delivery")
	}
	mu.Lock()
	ev := got[0]
	mu.Unlock()
	if ev.Key != "c1" || ev.Op != "upsert" || ev.Fields["phone"] != "555-0100" || ev.Fields["title"] != "CFO" || ev.SalesforceID != id || ev.ID == "" {
		t.Fatalf("event %+v", ev)
	}
	code, rec := s.do("GET", "/api/v1/sources/client/records/c1", "", true)
	if f := rec["fields"].(map[string]any); code != 200 || f["phone"] != "555-0100" || f["last_name"] != "Ada" {
		t.Fatalf("record: %d %v", code, rec)
	}
	code, feed := s.do("GET", "/api/v1/changes?after=0&wait=1s", "", true)
	if cs := feed["changes"].([]any); code != 200 || len(cs) != 1 || feed["next"] == "0" {
		t.Fatalf("changes: %d %v", code, feed)
	}
	// A long poll after the cursor waits for the next change.
	next := feed["next"].(string)
	done := make(chan map[string]any, 1)
	go func() {
		_, out := s.do("GET", "/api/v1/changes?after="+next+"&wait=30s", "", true)
		done <- out
	}()
	if err := emu.UpdateAs("Lead", id, map[string]any{"Title": "CEO"}); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		cs := out["changes"].([]any)
		if len(cs) != 1 || cs[0].(map[string]any)["fields"].(map[string]any)["title"] != "CEO" {
			t.Fatalf("long poll: %v", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("long poll never answered")
	}
	// Nothing was pushed back: Salesforce holds the rep's values.
	if err := waitCond(func() bool { return len(arrivedEvents(&mu, &got)) == 2 }); err != nil {
		t.Fatalf("second webhook: %v", err)
	}
	code, _ = s.do("GET", "/api/v1/changes?after=x", "", true)
	if code != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", code)
	}
}

func arrivedEvents(mu *sync.Mutex, got *[]webhookreceiver.Event) []webhookreceiver.Event {
	mu.Lock()
	defer mu.Unlock()
	return append([]webhookreceiver.Event(nil), (*got)...)
}

// waitCond polls cond until it holds or 30 seconds pass.
func waitCond(cond func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
