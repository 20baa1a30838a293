package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/examples/webhookreceiver"
)

// cookbookTwoWay is docs/cookbook.md's two-way story
// pointed at the emulator and the test's receiver, polling every 50ms.
func cookbookTwoWay(t *testing.T, loginURL, hookURL string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cookbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	cfg := ""
	for _, b := range blocks {
		if strings.Contains(b[1], "direction: both") && strings.Contains(b[1], "webhook:") {
			cfg = b[1]
		}
	}
	if cfg == "" {
		t.Fatal("the cookbook lost its two-way story")
	}
	conn := regexp.MustCompile(`(?s)connections:\n.*?\nsources:`)
	cfg = conn.ReplaceAllLiteralString(cfg, fmt.Sprintf(emulatorConnection, loginURL)+"\nstore:\n  sqlite: fs.db\nsources:")
	for old, repl := range map[string]string{
		"https://www.example.com/wp-json/forcesync/v1/events": hookURL,
		"poll_interval: 30s":                "poll_interval: 50ms",
		"api_token: ${FORCESYNC_API_TOKEN}": "api_token: ${TEST_API_TOKEN}",
		"listen: 127.0.0.1:8080":            "listen: 127.0.0.1:0",
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("cookbook config lost %q", old)
		}
		cfg = strings.ReplaceAll(cfg, old, repl)
	}
	if _, err := config.Parse([]byte(cfg), "cookbook two-way story"); err != nil {
		t.Fatalf("%v\n%s", err, cfg)
	}
	return cfg
}

// TestServeWebhookStory: a record pushed by serve, edited in Salesforce by
// a sales rep, reaches the application's webhook receiver signed, shows in
// the source record and the changes feed, and is not pushed back.
func TestServeWebhookStory(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
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
	s := startServeWith(t, emu, cookbookTwoWay(t, sfURL, recv.URL), map[string]string{
		"FORCESYNC_WEBHOOK_SECRET": "whsec_c2VjcmV0LWZvci10ZXN0cw==", "WP_PLUGIN_TOKEN": "wp-token"})

	code, _ := s.do("POST", "/api/v1/sources/wp_user/records", `[{"key":"c1","fields":{"last_name":"Ada","phone":"111","user_email":"ada@example.com"}}]`, true)
	if code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	var id string
	if err := waitCond(func() bool {
		_, rec := s.do("GET", "/api/v1/sources/wp_user/records/c1", "", true)
		ms, _ := rec["mappings"].([]any)
		if len(ms) == 1 && ms[0].(map[string]any)["state"] == "synced" {
			id = ms[0].(map[string]any)["salesforce_id"].(string)
			return true
		}
		return false
	}); err != nil {
		t.Fatalf("record never synced: %v", err)
	}

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
	if ev.Key != "c1" || ev.Op != "upsert" || ev.Fields["phone"] != "555-0100" || ev.Fields["job_title"] != "CFO" || ev.SalesforceID != id || ev.ID == "" {
		t.Fatalf("event %+v", ev)
	}
	code, rec := s.do("GET", "/api/v1/sources/wp_user/records/c1", "", true)
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
		if len(cs) != 1 || cs[0].(map[string]any)["fields"].(map[string]any)["job_title"] != "CEO" {
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
