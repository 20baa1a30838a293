package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// TestDeadLettersRedelivered: an event the webhook receiver refused until
// max_attempts is a dead letter; once the receiver is back, an operator
// puts it back through the API (bad requests refused, naming the field),
// and it is delivered, logged and counted in /metrics. The CLI lists a
// mapping's dead letters and puts them back too, for serve to post.
func TestDeadLettersRedelivered(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	const secret = "whsec_c2VjcmV0LWZvci10ZXN0cw=="
	recv := newDownableReceiver(t, secret)
	cfg := cookbookTwoWay(t, sfURL, recv.URL)
	const hook = "        secret_env: FORCESYNC_WEBHOOK_SECRET\n"
	if !strings.Contains(cfg, hook) {
		t.Fatal("the cookbook's webhook lost its secret_env line")
	}
	cfg = strings.Replace(cfg, hook, hook+"        max_attempts: 1\n", 1)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"FORCESYNC_WEBHOOK_SECRET": secret, "WP_PLUGIN_TOKEN": "wp-token"}
	logs := &syncBuffer{}
	s := serveFileTo(t, emu, path, vars, logs)
	const m = "wp_users_to_leads"

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
	var dead []any
	waitCondFor(t, "a dead letter", func() bool {
		_, out := s.do("GET", "/api/v1/mappings/"+m+"/dead-letters", "", true)
		dead, _ = out["dead_letters"].([]any)
		return len(dead) == 1
	})
	ev := dead[0].(map[string]any)["event"].(map[string]any)
	seq := strconv.Itoa(int(ev["seq"].(float64)))

	for _, c := range []struct {
		mapping, body string
		code          int
		field         string
	}{
		{m, `{"seqs":["x"]}`, http.StatusBadRequest, "seqs"},
		{m, `{"seqs":[0]}`, http.StatusBadRequest, "seqs"},
		{m, `{"seq":[1]}`, http.StatusBadRequest, "seqs"},
		{"nope", ``, http.StatusNotFound, ""},
	} {
		code, out := s.do("POST", "/api/v1/mappings/"+c.mapping+"/dead-letters/redeliver", c.body, true)
		if msg, _ := out["error"].(string); code != c.code || !strings.HasPrefix(msg, c.field) {
			t.Errorf("redeliver %s %s: %d %v, want %d naming %q", c.mapping, c.body, code, out, c.code, c.field)
		}
	}
	if code, _ := s.do("POST", "/api/v1/mappings/"+m+"/dead-letters/redeliver", "", false); code != http.StatusUnauthorized {
		t.Errorf("redeliver without a token: %d", code)
	}
	if v := s.metric("forcesync_webhook_redelivered_total", `mapping="`+m+`"`); v != 0 {
		t.Fatalf("redelivered before any: %v", v)
	}

	recv.setDown(false)
	code, out := s.do("POST", "/api/v1/mappings/"+m+"/dead-letters/redeliver", `{"seqs":[`+seq+`]}`, true)
	if code != http.StatusOK || out["redelivered"] != 1.0 {
		t.Fatalf("redeliver: %d %v", code, out)
	}
	waitCondFor(t, "the redelivered event applied", func() bool { return recv.appliedIDs()[ev["id"].(string)] == 1 })
	if _, out := s.do("GET", "/api/v1/mappings/"+m+"/dead-letters", "", true); len(out["dead_letters"].([]any)) != 0 {
		t.Fatalf("dead letters after the redelivery: %v", out)
	}
	if code, out := s.do("POST", "/api/v1/mappings/"+m+"/dead-letters/redeliver", "", true); code != http.StatusOK || out["redelivered"] != 0.0 {
		t.Fatalf("redeliver with none left: %d %v", code, out)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"forcesync_webhook_redelivered_total", nil, 1},
		{"forcesync_webhook_deliveries_total", []string{`outcome="dead"`}, 1},
		{"forcesync_webhook_deliveries_total", []string{`outcome="delivered"`}, 1},
	} {
		if v := s.metric(c.name, append(c.labels, `mapping="`+m+`"`)...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if !strings.Contains(logs.String(), `"event":"webhook.redeliver"`) || !strings.Contains(logs.String(), `"redelivered":1`) {
		t.Errorf("no webhook.redeliver log line:\n%s", logs.String())
	}

	// The receiver fails again: the next change dies; the CLI, with
	// serve stopped, lists it and puts it back.
	recv.setDown(true)
	if err := emu.UpdateAs("Lead", id, map[string]any{"Phone": "555-0199"}); err != nil {
		t.Fatal(err)
	}
	waitCondFor(t, "a second dead letter", func() bool {
		_, out := s.do("GET", "/api/v1/mappings/"+m+"/dead-letters", "", true)
		dead, _ = out["dead_letters"].([]any)
		return len(dead) == 1
	})
	s.stop()
	cli := func(args ...string) (string, error) {
		var buf bytes.Buffer
		err := run(context.Background(), append(args, "--config", path), func(k string) string { return vars[k] }, strings.NewReader(""), &buf, io.Discard)
		return buf.String(), err
	}
	got, err := cli("dead-letters", m)
	if err != nil || !strings.Contains(got, "c1") || !strings.Contains(got, "503") {
		t.Fatalf("dead-letters: %v\n%s", err, got)
	}
	if _, err := cli("dead-letters", "nope", "--redeliver"); err == nil {
		t.Fatal("dead-letters of an unknown mapping succeeded")
	}
	if _, err := cli("dead-letters", m, "--seq", "3"); err == nil {
		t.Fatal("--seq without --redeliver succeeded")
	}
	if got, err := cli("dead-letters", m, "--redeliver"); err != nil || !strings.Contains(got, "1 dead letters put back") {
		t.Fatalf("dead-letters --redeliver: %v\n%s", err, got)
	}
	if got, err := cli("dead-letters", m); err != nil || !strings.Contains(got, "no dead letters") {
		t.Fatalf("dead-letters after --redeliver: %v\n%s", err, got)
	}
	recv.setDown(false)
	serveFileTo(t, emu, path, vars, nil)
	waitCondFor(t, "the event the CLI put back applied", func() bool { return len(recv.appliedIDs()) == 2 })
}
