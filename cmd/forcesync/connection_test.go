package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/secret"
)

// cliOrg is an emulator on 127.0.0.1:0 plus a FORCESYNC_HOME for the CLI.
type cliOrg struct {
	emu  *emulator.Emulator
	url  string
	home string
	env  map[string]string
}

func startCLIOrg(t *testing.T, cfg emulator.Config) *cliOrg {
	t.Helper()
	emu, url := startEmulator(t, cfg)
	home := t.TempDir()
	return &cliOrg{emu: emu, url: url, home: home, env: map[string]string{envHome: home}}
}

func (o *cliOrg) getenv(k string) string { return o.env[k] }

// syncBuffer is an io.Writer safe for the command's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runCLI runs the program with args and returns stdout and stderr.
func (o *cliOrg) runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr syncBuffer
	err := run(context.Background(), args, o.getenv, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// loginClientCredentials saves a connection named name through the
// client-credentials flow (the emulator's demo app runs as the admin).
func (o *cliOrg) loginClientCredentials(t *testing.T, name string) {
	t.Helper()
	o.env[envClientSecret] = emulator.DemoClientSecret
	defer delete(o.env, envClientSecret)
	if _, stderr, err := o.runCLI(t, "login", "--client-credentials", "--login-url", o.url,
		"--client-id", emulator.DemoClientID, "--name", name); err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
}

func TestConnectionFileSealsSecrets(t *testing.T) {
	home := t.TempDir()
	env := &Env{Getenv: envMap{envHome: home}.get, Stderr: &bytes.Buffer{}}
	sc := &savedConnection{Name: "prod", AuthMethod: forcesync.AuthWebServer, LoginURL: "https://login.salesforce.com", ClientID: "cid"}
	secrets := map[string]string{secretRefreshToken: "5Aep861-refresh-VERY-SECRET", secretClientSecret: "client-SECRET-xyz", secretAccessToken: ""}
	if err := saveConnection(env, sc, secrets); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "connections", "prod.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"VERY-SECRET", "client-SECRET"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("connection file holds a plain secret:\n%s", raw)
		}
	}
	assertMode(t, path, 0o600)
	assertMode(t, filepath.Join(home, "key"), 0o600)

	got, opened, err := loadConnection(env, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "cid" || opened[secretRefreshToken] != secrets[secretRefreshToken] || opened[secretClientSecret] != secrets[secretClientSecret] {
		t.Fatalf("round trip: %+v %v", got, opened)
	}
	if _, ok := opened[secretAccessToken]; ok {
		t.Fatal("empty secret was saved")
	}

	// A secret moved to another role does not open.
	var f map[string]any
	json.Unmarshal(raw, &f)
	s := f["secrets"].(map[string]any)
	s[secretClientSecret] = s[secretRefreshToken]
	raw2, _ := json.Marshal(f)
	os.WriteFile(path, raw2, 0o600)
	if _, _, err := loadConnection(env, "prod"); !errors.Is(err, secret.ErrTampered) {
		t.Fatalf("swapped secret: got %v, want ErrTampered", err)
	}

	// Another key (FORCESYNC_KEY) cannot open the file.
	os.WriteFile(path, raw, 0o600)
	other, _ := secret.NewKey()
	env2 := &Env{Getenv: envMap{envHome: home, envKey: other.Encode()}.get}
	if _, _, err := loadConnection(env2, "prod"); !errors.Is(err, secret.ErrWrongKey) {
		t.Fatalf("other key: got %v, want ErrWrongKey", err)
	}

	if err := saveConnection(env, &savedConnection{Name: "../evil"}, nil); err == nil {
		t.Fatal("bad connection name accepted")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Fatalf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

func TestLoginURLFor(t *testing.T) {
	for in, want := range map[string]string{
		"production": "https://login.salesforce.com", "sandbox": "https://test.salesforce.com",
		"https://acme.my.salesforce.com/": "https://acme.my.salesforce.com", "http://127.0.0.1:8080": "http://127.0.0.1:8080",
	} {
		if got, err := loginURLFor(in); err != nil || got != want {
			t.Errorf("loginURLFor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := loginURLFor("ftp://x"); err == nil {
		t.Error("ftp URL accepted")
	}
}
