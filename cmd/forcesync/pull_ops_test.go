package main

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/examples/webhookreceiver"
)

// downableReceiver is a webhook receiver that answers 503 while down
// (it starts down) and otherwise applies events, checking signatures.
type downableReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	down    bool
	failed  int
	applied map[string]int // by event id
}

func newDownableReceiver(t *testing.T, secret string) *downableReceiver {
	t.Helper()
	d := &downableReceiver{down: true, applied: map[string]int{}}
	ok := webhookreceiver.Handler(secret, func(ev webhookreceiver.Event) error {
		d.mu.Lock()
		d.applied[ev.ID]++
		d.mu.Unlock()
		return nil
	})
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		isDown := d.down
		if isDown {
			d.failed++
		}
		d.mu.Unlock()
		if isDown {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		ok.ServeHTTP(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *downableReceiver) setDown(down bool) { d.mu.Lock(); d.down = down; d.mu.Unlock() }
func (d *downableReceiver) failures() int     { d.mu.Lock(); defer d.mu.Unlock(); return d.failed }

// appliedIDs returns how often each event was applied, by id.
func (d *downableReceiver) appliedIDs() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.applied)
}

// TestServePullOutagesLoggedAndCounted: a webhook receiver that fails and
// recovers, and a poll Salesforce fails, are each logged with an event
// (webhook.retry with its reasons, webhook.recovered, pull.failed with the
// error code and not Salesforce's message) and counted in /metrics; the
// webhook's URL, whose query may hold a token, is in no log line.
func TestServePullOutagesLoggedAndCounted(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	const secret = "whsec_c2VjcmV0LWZvci10ZXN0cw=="
	recv := newDownableReceiver(t, secret)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cookbookTwoWay(t, sfURL, recv.URL+"/hook?token=secret-in-url")), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s := serveFileTo(t, emu, path, map[string]string{"FORCESYNC_WEBHOOK_SECRET": secret, "WP_PLUGIN_TOKEN": "wp-token"}, logs)

	s.ingest("wp_user", `[{"key":"c1","fields":{"last_name":"Ada","phone":"111","user_email":"ada@example.com"}}]`)
	var id string
	waitCondFor(t, "c1 synced", func() bool {
		ms, _ := s.record("wp_user", "c1")["mappings"].([]any)
		if len(ms) == 1 && ms[0].(map[string]any)["state"] == "synced" {
			id, _ = ms[0].(map[string]any)["salesforce_id"].(string)
		}
		return id != ""
	})
	if err := emu.UpdateAs("Lead", id, map[string]any{"Phone": "555-0100"}); err != nil {
		t.Fatal(err)
	}
	waitCondFor(t, "two failed deliveries", func() bool { return recv.failures() >= 2 })
	recv.setDown(false)
	waitCondFor(t, "the delivery after recovery", func() bool { return len(recv.appliedIDs()) == 1 })
	waitCondFor(t, "webhook.recovered logged", func() bool { return strings.Contains(logs.String(), `"event":"webhook.recovered"`) })

	// Salesforce fails every attempt of the next poll's query.
	if _, err := emu.AddFault(emulator.Fault{Type: emulator.FaultError, Path: "re:/queryAll", Status: 500, Count: 4}); err != nil {
		t.Fatal(err)
	}
	waitCondFor(t, "pull.failed logged", func() bool { return strings.Contains(logs.String(), `"event":"pull.failed"`) })

	var retry, failure string
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, `"event":"webhook.retry"`) && retry == "":
			retry = line
		case strings.Contains(line, `"event":"pull.failed"`):
			failure = line
		}
		if strings.Contains(line, "secret-in-url") {
			t.Errorf("a log line holds the webhook URL: %s", line)
		}
	}
	if !strings.Contains(retry, `"reasons":"HTTP 503=1"`) || !strings.Contains(retry, `"next_attempt"`) {
		t.Errorf("webhook.retry line: %s", retry)
	}
	if !strings.Contains(failure, `"code":"UNKNOWN_EXCEPTION"`) || !strings.Contains(failure, `"status":500`) || strings.Contains(failure, "message") {
		t.Errorf("pull.failed line: %s", failure)
	}
	m := "wp_users_to_leads"
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"forcesync_webhook_deliveries_total", []string{`outcome="failed"`}},
		{"forcesync_webhook_deliveries_total", []string{`outcome="delivered"`}},
		{"forcesync_pull_polls_total", []string{`outcome="ok"`}},
		{"forcesync_pull_polls_total", []string{`outcome="failed"`}},
		{"forcesync_pulled_records_total", []string{`kind="changed"`}},
		{"forcesync_pull_last_success_timestamp_seconds", nil},
	} {
		if v := s.metric(c.name, append(c.labels, `mapping="`+m+`"`)...); v < 1 {
			t.Errorf("%s%v = %v, want at least 1", c.name, c.labels, v)
		}
	}
	if v := s.metric("forcesync_pull_last_success_timestamp_seconds"); v > float64(time.Now().Unix()+1) {
		t.Errorf("last success in the future: %v", v)
	}
}
