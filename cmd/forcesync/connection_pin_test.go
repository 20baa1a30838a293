package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
)

// TestOrgPinRefusesAnotherOrg points one connection at a second emulator
// with another org Id: the engine refuses it, naming both orgs, until the
// connection is re-pinned.
func TestOrgPinRefusesAnotherOrg(t *testing.T) {
	ctx := context.Background()
	first, url1 := startEmulator(t, emulator.Config{})
	second, url2 := startEmulator(t, emulator.Config{OrgID: "00D5e000000SEC1"})
	if first.OrgID() == second.OrgID() {
		t.Fatalf("both emulators serve org %s", first.OrgID())
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	write := func(url string) {
		if err := os.WriteFile(path, []byte(fmt.Sprintf(serveConfig, url)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := serveVars()
	var out bytes.Buffer
	env := &Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: io.Discard}
	logger := slog.New(slog.DiscardHandler)

	write(url1)
	a, err := openApp(ctx, env, path, logger)
	if err != nil {
		t.Fatalf("first login: %v", err)
	}
	pin, err := a.store.(forcesync.OrgPins).OrgPin(ctx, "org")
	a.store.Close()
	if err != nil || pin == nil || pin.OrgID != first.OrgID() || pin.InstanceURL != url1 {
		t.Fatalf("pin after the first login = %+v, %v; want org %s at %s", pin, err, first.OrgID(), url1)
	}

	write(url2)
	_, err = openApp(ctx, env, path, logger)
	var mm *forcesync.OrgMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("login to another org: err = %v; want an OrgMismatchError", err)
	}
	for _, want := range []string{first.OrgID(), second.OrgID(), "forcesync connection pin org"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	// The token was refused before any use: the second org saw the login
	// and nothing else (not even a describe).
	for kind, n := range second.Stats() {
		if kind != emulator.KindOAuth && n != 0 {
			t.Errorf("the second org served %d %s calls before the refusal", n, kind)
		}
	}

	// Re-pin, then the second org is accepted.
	if err := run(ctx, []string{"connection", "pin", "org", "--config", path}, env.Getenv, env.Stdin, &out, io.Discard); err != nil {
		t.Fatalf("connection pin: %v", err)
	}
	if !strings.Contains(out.String(), "re-pinned from org "+first.OrgID()+" to org "+second.OrgID()) {
		t.Fatalf("connection pin said %q", out.String())
	}
	a, err = openApp(ctx, env, path, logger)
	if err != nil {
		t.Fatalf("after re-pinning: %v", err)
	}
	a.store.Close()
	// And now the first org is the stranger.
	write(url1)
	if _, err := openApp(ctx, env, path, logger); !errors.As(err, &mm) || mm.Pinned != second.OrgID() || mm.Found != first.OrgID() {
		t.Fatalf("back to the first org: err = %v; want a mismatch pinned %s found %s", err, second.OrgID(), first.OrgID())
	}
}
