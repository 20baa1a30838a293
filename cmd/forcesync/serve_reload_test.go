package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// TestServeReloadsOnSIGHUP: records are queued, the config changes on
// disk, serve gets a real SIGHUP; every record arrives in Salesforce, none
// twice, and records pushed after the reload carry the new config's value.
func TestServeReloadsOnSIGHUP(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	before := fmt.Sprintf(serveConfig, sfURL) + "engine:\n  lease: 5s\n"
	after := strings.Replace(before, "value: Trading Clients", "value: Reloaded Co", 1)
	if after == before {
		t.Fatal("the config edit changed nothing")
	}
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := serveVars()
	var logs syncBuffer
	env := &Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: &logs, Stderr: &logs}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, env, serveFlags{config: path, listen: "127.0.0.1:0"}, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	var s *served
	select {
	case a := <-addr:
		s = &served{t: t, path: path, env: env, base: "http://" + a, token: "s3cret-token", emu: emu}
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	send := func(from, n int) {
		t.Helper()
		var b strings.Builder
		b.WriteString("[")
		for i := from; i < from+n; i++ {
			if i > from {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"key":"k%d","fields":{"last_name":"L%d","email":"k%d@example.com"}}`, i, i, i)
		}
		b.WriteString("]")
		if code, body := s.do("POST", "/api/v1/sources/client/records", b.String(), true); code != http.StatusAccepted {
			t.Fatalf("ingest: %d %v", code, body)
		}
	}
	// Queue work, change the file, SIGHUP while the engine pushes it.
	send(0, 600)
	if err := os.WriteFile(path, []byte(after), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reload", func() bool { return strings.Contains(logs.String(), "config reloaded") })
	if strings.Contains(logs.String(), "reload failed") {
		t.Fatalf("serve logged a failed reload:\n%s", logs.String())
	}
	leads := func() map[string]string { // key -> Company
		out := map[string]string{}
		for _, r := range emuRecords(t, sfURL, "SELECT Forcesync_Key__c, Company FROM Lead") {
			out[fmt.Sprint(r["Forcesync_Key__c"])] = fmt.Sprint(r["Company"])
		}
		return out
	}
	atReload := len(leads())
	send(600, 5) // after the reload: the new config's value
	waitUntil(t, "605 Leads", func() bool { return len(leads()) >= 605 })
	got := leads()
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Lead")); n != 605 {
		t.Fatalf("the emulator holds %d Leads, want 605 (one per record)", n)
	}
	for i := 0; i < 605; i++ {
		if _, ok := got[fmt.Sprintf("k%d", i)]; !ok {
			t.Fatalf("record k%d never arrived", i)
		}
	}
	carried := 0
	for i := 0; i < 600; i++ {
		if got[fmt.Sprintf("k%d", i)] == "Reloaded Co" {
			carried++
		}
	}
	t.Logf("Leads in Salesforce when the reload was done: %d of 600; records queued before and pushed after it: %d", atReload, carried)
	for i := 600; i < 605; i++ {
		if c := got[fmt.Sprintf("k%d", i)]; c != "Reloaded Co" {
			t.Errorf("k%d sent after the reload has Company %q, want the new config's Reloaded Co", i, c)
		}
	}
	for _, k := range []string{"k0", "k599", "k604"} {
		s.waitState(k, "synced")
	}
}

// waitUntil polls cond until it holds (the test's own deadline bounds it).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if dl, ok := t.Deadline(); ok && time.Until(dl) < 5*time.Second {
			t.Fatalf("%s never happened", what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// TestServeFailedReloadKeepsTheStore: a reload that fails after it began
// building over the running app's store leaves the running app, and the
// store it runs on, as they were. The pulled mapping members is paused
// first (Tier__c deleted in Salesforce, a push refused): a reload over it
// builds, its pull held (it used to fail there, "Contact has no field
// Tier__c"). Then the config names a field Lead never had, with no pause
// to explain it: that reload is refused as the config error it is, and
// the running serve still ingests, pushes and reports records through its
// store.
func TestServeFailedReloadKeepsTheStore(t *testing.T) {
	emu, sfURL := membersEmulator(t)
	cfg := membersConfig(sfURL)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s, logs := serveLogged(t, emu, path)
	pauseMembers(t, s, sfURL, logs)
	count := func(soql string) int { return len(emuRecords(t, sfURL, soql)) }

	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reload over the paused mapping", func() bool { return strings.Contains(logs.String(), "config reloaded") })
	if l := logs.String(); strings.Contains(l, "reload failed") {
		t.Fatalf("the reload over the paused pull mapping failed:\n%s", l)
	}

	bad := strings.Replace(cfg, "      - target: Email\n        source: email\n",
		"      - target: Email\n        source: email\n      - target: Never_There__c\n        source: email\n", 1)
	if bad == cfg {
		t.Fatal("the config edit changed nothing")
	}
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the failed reload", func() bool { return strings.Contains(logs.String(), "reload failed") })
	if l := logs.String(); !strings.Contains(l, "Never_There__c") || strings.Count(l, "config reloaded") != 1 {
		t.Fatalf("the reload did not fail on the field Lead never had:\n%s", l)
	}

	// The running app carries on over its store.
	s.ingest("client", `[{"key":"c1","fields":{"last_name":"After","email":"after@example.com"}}]`)
	st := s.waitState("c1", "synced")
	if id, _ := st["salesforce_id"].(string); id == "" || count("SELECT Id FROM Lead WHERE Forcesync_Key__c = 'c1'") != 1 {
		t.Fatalf("c1 synced as %v, but Salesforce holds no Lead c1", st)
	}
	if code, out := s.do("GET", "/api/v1/runs", "", true); code != http.StatusOK {
		t.Fatalf("runs after the failed reload: %d %v", code, out)
	}
}
