package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// TestPasswordStory runs the WordPress users config of docs/cookbook.md:
// registration -> inactive User -> activation with the
// password -> the user logs in to the emulator with that username and
// password -> the password is in no file forcesync wrote, no log line and
// no answer of its API.
func TestPasswordStory(t *testing.T) {
	const password = "Regist3redPassw0rd"
	emu, sfURL := startEmulator(t, emulator.Config{})
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(cookbookForEmulator(t, "## 6.", sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"FORCESYNC_API_TOKEN": "tok", "TEST_SF_SECRET": "forcesync-demo-secret", "TEST_SF_PASSWORD": "forcesync"}
	logs := &lockedBuffer{}
	env := &Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, env, serveFlags{config: path, listen: "127.0.0.1:0"}, func(a string) { addr <- a })
	}()
	var s *served
	select {
	case a := <-addr:
		s = &served{t: t, path: path, env: env, base: "http://" + a, token: "tok", emu: emu}
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	var answers strings.Builder
	ingest := func(body string) {
		code, out := s.do("POST", "/api/v1/sources/wp_user/records", body, true)
		answers.WriteString(fmt.Sprint(out))
		if code != http.StatusAccepted || out["accepted"] != 1.0 {
			t.Fatalf("ingest: %d %v", code, out)
		}
	}
	state := func(want string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, body := s.do("GET", "/api/v1/sources/wp_user/records/42", "", true)
			answers.WriteString(fmt.Sprint(body))
			if code == 200 {
				if m := body["mappings"].([]any)[0].(map[string]any); m["state"] == want {
					return m
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("never %s: %v", want, body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	login := func() int {
		resp, err := http.PostForm(sfURL+"/services/oauth2/token", url.Values{"grant_type": {"password"},
			"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
			"username": {"ada@example.com.wpdev"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Registration: the User is created inactive, with its password.
	ingest(`[{"key":"42","fields":{"first_name":"Ada","last_name":"Lovelace","email":"Ada@Example.com","login":"ada","activated":false,"password":"` + password + `"}}]`)
	st := state("disabled")
	id := st["salesforce_id"].(string)
	u := emuRecords(t, sfURL, "SELECT Username, IsActive, Alias, TimeZoneSidKey, FederationIdentifier FROM User WHERE Id = '"+id+"'")[0]
	if u["Username"] != "ada@example.com.wpdev" || u["IsActive"] != false || u["Alias"] != "alovelac" || u["TimeZoneSidKey"] != "Europe/Paris" || u["FederationIdentifier"] != "ada" {
		t.Fatalf("registered user %v", u)
	}
	if code := login(); code == 200 {
		t.Fatal("an inactive user logged in")
	}
	// forcesync status counts the disabled record in its own column.
	var disabled bytes.Buffer
	if err := run(context.Background(), []string{"status", "--config", path}, env.Getenv, env.Stdin, &disabled, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := statusRow(t, disabled.String(), "wp_users"); got["DISABLED"] != "1" || got["SYNCED"] != "0" {
		t.Fatalf("status while the user is disabled: %v\n%s", got, disabled.String())
	}
	// Activation: the User is active and logs in with the registration password.
	ingest(`[{"key":"42","fields":{"first_name":"Ada","last_name":"Lovelace","email":"Ada@Example.com","login":"ada","activated":true}}]`)
	state("synced")
	if code := login(); code != 200 {
		t.Fatalf("login after activation: %d", code)
	}
	// Everything forcesync wrote or said holds no trace of the password.
	for _, p := range []string{"/api/v1/failures", "/api/v1/runs", "/api/v1/guard"} {
		req, _ := http.NewRequest("GET", s.base+p, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers.Write(b)
	}
	var status bytes.Buffer
	if err := run(context.Background(), []string{"status", "--config", path}, env.Getenv, env.Stdin, &status, io.Discard); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(password)) {
			t.Errorf("the password is in %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("scanned %d files, want the store and the config at least", files)
	}
	for what, text := range map[string]string{"logs": logs.String(), "API answers": answers.String(), "status": status.String()} {
		if strings.Contains(text, password) {
			t.Errorf("the password is in the %s", what)
		}
	}
}

// statusRow reads the row of mapping from forcesync status's first table,
// keyed by the header's column names.
func statusRow(t *testing.T, out, mapping string) map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	header := strings.Fields(lines[0])
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) == len(header) && f[0] == mapping {
			row := map[string]string{}
			for i, h := range header {
				row[h] = f[i]
			}
			return row
		}
		if strings.TrimSpace(l) == "" {
			break
		}
	}
	t.Fatalf("no row for %s in:\n%s", mapping, out)
	return nil
}
