package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects a command's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startEmulatorCmd runs `forcesync emulator args...` until the test ends and
// returns its output buffer and a function that stops it and returns run's error.
func startEmulatorCmd(t *testing.T, args ...string) (*lockedBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"emulator"}, args...), func(string) string { return "" }, strings.NewReader(""), out, out)
	}()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return out, stop
}

// waitFor polls the output until re matches, with a deadline.
func waitFor(t *testing.T, out *lockedBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("output never matched %s:\n%s", re, out)
	return nil
}

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)\n`)

func TestEmulatorCommand(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "org.yaml")
	if err := os.WriteFile(cfgFile, []byte("users:\n  - username: jane@example.com\n    password: janepw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stop := startEmulatorCmd(t, "--addr", "127.0.0.1:0", "--config", cfgFile, "--data", filepath.Join(dir, "org.data"))
	base := waitFor(t, out, listeningRE)[1]
	for _, want := range []string{"client id:     forcesync-demo", "client secret: forcesync-demo-secret",
		"username:      admin@forcesync.local", "password:      forcesync", "login URL:     " + base + "/services/oauth2/authorize?",
		"curl -s " + base + "/services/oauth2/token -d grant_type=password"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}

	// The printed credentials work, and so does a user from --config.
	for _, login := range [][2]string{{"admin@forcesync.local", "forcesync"}, {"jane@example.com", "janepw"}} {
		resp, err := http.PostForm(base+"/services/oauth2/token", url.Values{"grant_type": {"password"},
			"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
			"username": {login[0]}, "password": {login[1]}})
		if err != nil {
			t.Fatal(err)
		}
		var tok map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if resp.StatusCode != 200 || tok["instance_url"] != base {
			t.Fatalf("token for %s: %d %v", login[0], resp.StatusCode, tok)
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("run returned %v after cancel", err)
	}
	if !strings.Contains(out.String(), "emulator stopped; state saved to") {
		t.Errorf("no stop message:\n%s", out)
	}
	if _, err := http.Get(base + "/services/data"); err == nil {
		t.Error("server still answers after stop")
	}
}

// TestEmulatorAccessLog: --access-log prints a line per request with its
// method, path, status and size, and never the query string (an OAuth
// code or a SOQL filter travels there).
func TestEmulatorAccessLog(t *testing.T) {
	out, stop := startEmulatorCmd(t, "--addr", "127.0.0.1:0", "--access-log")
	base := waitFor(t, out, listeningRE)[1]
	resp, err := http.Get(base + "/services/data/v62.0/query?q=SELECT+Id+FROM+Lead")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := waitFor(t, out, regexp.MustCompile(`\d\d:\d\d:\d\d\.\d{3} GET /services/data/v62\.0/query (\d{3}) (\d+)B \S+\n`))
	if line[1] != "401" || line[2] == "0" {
		t.Errorf("access log line %q: want status 401 and the answer's size", line[0])
	}
	if strings.Contains(out.String(), "SELECT") {
		t.Errorf("the access log shows a query string:\n%s", out)
	}
	// A request line past Go's default header limit (1 MiB) still gets
	// Salesforce's 414 and error body, not a bare 431 from net/http.
	resp, err = http.Get(base + "/services/data/v62.0/query?q=" + strings.Repeat("a", 2<<20))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestURITooLong || !strings.Contains(string(body), "URI_TOO_LONG") {
		t.Errorf("2 MiB URI: %d %s, want 414 URI_TOO_LONG", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestEmulatorCommandTLS(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "emu.pem")
	out, _ := startEmulatorCmd(t, "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--cert-file", certFile, "--auto-approve")
	m := waitFor(t, out, regexp.MustCompile(`https:\s+(https://127\.0\.0\.1:\d+) \(self-signed certificate in (\S+)\)`))
	if m[2] != certFile || !strings.Contains(out.String(), "NODE_EXTRA_CA_CERTS="+certFile) {
		t.Errorf("banner:\n%s", out)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// --auto-approve: authorize redirects at once with a code.
	resp, err := client.Get(m[1] + "/services/oauth2/authorize?response_type=code&client_id=PlatformCLI&redirect_uri=" +
		url.QueryEscape("http://localhost:1717/OauthRedirect") + "&state=s1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, "http://localhost:1717/OauthRedirect?code=") || !strings.Contains(loc, "state=s1") {
		t.Fatalf("authorize over TLS: %d %s", resp.StatusCode, loc)
	}
}

func TestEmulatorCommandRefusals(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("users:\n  - username: a@b.c\n    pasword: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args  []string
		want  string
		usage bool
	}{
		{[]string{"--addr", "0.0.0.0:0"}, "not a loopback address", true},
		{[]string{"--addr", ":7400"}, "not a loopback address", true},
		{[]string{"--addr", "127.0.0.1:0", "--tls-addr", "192.0.2.1:0"}, "--tls-addr", true},
		{[]string{"--addr", "nonsense"}, "--addr", true},
		{[]string{"--addr", "127.0.0.1:0", "--config", bad}, bad + `:3: unknown key "pasword"`, false},
		{[]string{"--addr", "127.0.0.1:0", "--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml", false},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"emulator"}, tc.args...), func(string) string { return "" }, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error containing %q", tc.args, err, tc.want)
			continue
		}
		var u usageError
		if errors.As(err, &u) != tc.usage {
			t.Errorf("%v: usage error = %v, want %v", tc.args, !tc.usage, tc.usage)
		}
	}
}
