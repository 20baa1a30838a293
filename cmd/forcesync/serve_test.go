package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
)

const serveConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
` + emulatorConnection + `
sources:
  - name: client
mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    operations:
      delete: delete
    fields:
      - target: LastName
        source: last_name
        default: Undefined
      - target: Company
        value: Trading Clients
        on: create
      - target: Email
        source: email
`

type served struct {
	t     *testing.T
	path  string
	env   *Env
	base  string
	token string
	emu   *emulator.Emulator
	// emuURL is the emulator's base URL, when the test knows it.
	emuURL string
	// stop stops this serve before the test ends (it is stopped then
	// anyway).
	stop func()
}

func startServe(t *testing.T) *served {
	t.Helper()
	emu, sfURL := startEmulator(t, emulator.Config{})
	return startServeWith(t, emu, fmt.Sprintf(serveConfig, sfURL), nil)
}

// startServeWith runs forcesync serve on config against emu until the test
// ends; vars add to the environment the config reads.
func startServeWith(t *testing.T, emu *emulator.Emulator, config string, extra map[string]string) *served {
	t.Helper()
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return serveFile(t, emu, path, extra)
}

// serveFile runs forcesync serve on the config file at path against emu
// until s.stop is called or the test ends; extra adds to serveVars. A test
// that edits the file and serves it again keeps the store beside it.
func serveFile(t *testing.T, emu *emulator.Emulator, path string, extra map[string]string) *served {
	t.Helper()
	return serveFileTo(t, emu, path, extra, nil)
}

// serveFileTo is serveFile writing serve's output to logs (nil: nowhere).
func serveFileTo(t *testing.T, emu *emulator.Emulator, path string, extra map[string]string, logs *syncBuffer) *served {
	t.Helper()
	vars := serveVars()
	for k, v := range extra {
		vars[k] = v
	}
	var out io.Writer = io.Discard
	if logs != nil {
		out = logs
	}
	env := &Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: out, Stderr: out}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, env, serveFlags{config: path, listen: "127.0.0.1:0"}, func(a string) { addr <- a })
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(stop)
	select {
	case a := <-addr:
		return &served{t: t, path: path, env: env, base: "http://" + a, token: "s3cret-token", emu: emu, stop: stop}
	case err := <-done:
		done <- err // for the cleanup, which waits on it
		if logs != nil {
			t.Fatalf("serve stopped: %v\n%s", err, logs.String())
		}
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil
}

func (s *served) do(method, path, body string, auth bool) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			s.t.Fatalf("%s %s: bad JSON %q", method, path, b)
		}
	}
	return resp.StatusCode, out
}

// waitState polls the record until its mapping reaches state.
func (s *served) waitState(key, state string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		code, body := s.do("GET", "/api/v1/sources/client/records/"+key, "", true)
		if code == 200 {
			last = body
			ms := body["mappings"].([]any)
			if len(ms) == 1 && ms[0].(map[string]any)["state"] == state {
				return ms[0].(map[string]any)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("record %s never reached %s: %v", key, state, last)
	return nil
}

func TestServeIngestToSalesforce(t *testing.T) {
	s := startServe(t)
	body := `{"key":"c1","op":"upsert","version":1,"fields":{"last_name":"Ada","email":"ada@example.com"}}
{"key":"c2","fields":{"email":"noname@example.com"}}
{"key":"","fields":{}}
{"key":"c3","op":"explode","fields":{}}
`
	code, out := s.do("POST", "/api/v1/sources/client/records", body, true)
	if code != http.StatusAccepted || out["accepted"] != 2.0 || out["rejected"] != 2.0 {
		t.Fatalf("ingest: %d %v", code, out)
	}
	probs := out["problems"].([]any)
	if p := probs[1].(map[string]any); p["field"] != "op" || p["key"] != "c3" || p["index"] != 3.0 {
		t.Fatalf("problem %v", p)
	}
	st := s.waitState("c1", "synced")
	id := st["salesforce_id"].(string)
	s.waitState("c2", "synced")

	// Repeating a version is harmless: ignored, nothing changes.
	code, out = s.do("POST", "/api/v1/sources/client/records", `[{"key":"c1","version":1,"fields":{"last_name":"Old"}}]`, true)
	if code != http.StatusAccepted || out["ignored"] != 1.0 {
		t.Fatalf("repeat: %d %v", code, out)
	}
	// A delete removes the twin.
	s.do("POST", "/api/v1/sources/client/records", `[{"key":"c1","op":"delete"}]`, true)
	s.waitState("c1", "deleted")
	code, _ = s.do("GET", "/api/v1/runs", "", true)
	if code != 200 {
		t.Fatalf("runs: %d", code)
	}
	// The CLI reads the same store.
	var buf bytes.Buffer
	env := *s.env
	env.Stdout = &buf
	if err := run(context.Background(), []string{"status", "--config", s.path}, env.Getenv, env.Stdin, env.Stdout, io.Discard); err != nil {
		t.Fatalf("status: %v", err)
	}
	if !strings.Contains(buf.String(), "clients_to_leads") || !strings.Contains(buf.String(), "Recent runs:") {
		t.Fatalf("status output:\n%s", buf.String())
	}
	buf.Reset()
	if err := run(context.Background(), []string{"mapping", "validate", "--config", s.path}, env.Getenv, env.Stdin, env.Stdout, io.Discard); err != nil {
		t.Fatalf("mapping validate: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "ok   clients_to_leads: client -> Lead") {
		t.Fatalf("validate output:\n%s", buf.String())
	}
	// A mapping naming a field the org lacks fails validation.
	cfg, _ := os.ReadFile(s.path)
	if err := os.WriteFile(s.path, bytes.Replace(cfg, []byte("target: Email"), []byte("target: Emial"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	// A mapping the org cannot take is bad input (exit 3), not a bug.
	if err := run(context.Background(), []string{"mapping", "validate", "--config", s.path}, env.Getenv, env.Stdin, env.Stdout, io.Discard); exitCode(err) != exitInvalid {
		t.Fatalf("validate of an unknown field: %v, exit %d, want %d:\n%s", err, exitCode(err), exitInvalid, buf.String())
	}
	if !strings.Contains(buf.String(), "FAIL") || !strings.Contains(buf.String(), "Emial") {
		t.Fatalf("validate output:\n%s", buf.String())
	}
	if id == "" {
		t.Fatal("no Salesforce id")
	}
}

func TestServeRefusesBadRequests(t *testing.T) {
	s := startServe(t)
	for _, tc := range []struct {
		name, method, path, body string
		auth                     bool
		want                     int
	}{
		{"no token", "POST", "/api/v1/sources/client/records", `[]`, false, 401},
		{"unknown source", "POST", "/api/v1/sources/nope/records", `[{"key":"a","fields":{}}]`, true, 404},
		{"not json", "POST", "/api/v1/sources/client/records", `<html>`, true, 400},
		{"all invalid", "POST", "/api/v1/sources/client/records", `[{"fields":{}}]`, true, 400},
		{"empty", "POST", "/api/v1/sources/client/records", ``, true, 400},
		{"too large", "POST", "/api/v1/sources/client/records", `[` + strings.Repeat(" ", 33<<20) + `]`, true, 413},
		{"unknown record", "GET", "/api/v1/sources/client/records/zzz", ``, true, 404},
		{"bad limit", "GET", "/api/v1/runs?limit=abc", ``, true, 400},
		{"unknown mapping", "POST", "/api/v1/mappings/nope/retry", ``, true, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.do(tc.method, tc.path, tc.body, tc.auth)
			if code != tc.want {
				t.Fatalf("status %d, want %d (%v)", code, tc.want, body)
			}
			if body["error"] == nil {
				t.Fatalf("no error message: %v", body)
			}
		})
	}
	code, body := s.do("GET", "/healthz", "", false)
	if code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz %d %v", code, body)
	}
	// With an API token set, /metrics is behind it by default.
	if code, _ := s.do("GET", "/metrics", "", false); code != http.StatusUnauthorized {
		t.Fatalf("metrics without the token: %d", code)
	}
	req, _ := http.NewRequest("GET", s.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte("forcesync_ingest_rejected_total")) {
		t.Fatalf("metrics lack ingest counters")
	}
}

// TestServeWithSavedConnection: a config may name a connection saved by
// forcesync login instead of carrying secrets; serve uses it, and a session
// it renews is saved back, sealed, for the next command.
func TestServeWithSavedConnection(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.loginClientCredentials(t, "acme")
	cfg := strings.Replace(serveConfig, emulatorConnection, "connections:\n  - name: org\n    saved: acme", 1)
	if strings.Contains(cfg, "%s") {
		t.Fatal("config template changed; update this test")
	}
	s := startServeWith(t, o.emu, cfg, map[string]string{envHome: o.home})
	connFile := filepath.Join(o.home, "connections", "acme.json")
	before, err := os.ReadFile(connFile)
	if err != nil {
		t.Fatal(err)
	}
	if code, out := s.do("POST", "/api/v1/sources/client/records", `[{"key":"s1","fields":{"last_name":"Saved","email":"s1@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", code, out)
	}
	s.waitState("s1", "synced")
	// Every session ends; serve renews its own and saves it back.
	if _, err := o.emu.AddFault(emulator.Fault{Type: emulator.FaultExpireSessions, Method: "*", Path: "/services/data/**", Count: 1}); err != nil {
		t.Fatal(err)
	}
	if code, out := s.do("POST", "/api/v1/sources/client/records", `[{"key":"s2","fields":{"last_name":"Renewed","email":"s2@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest: %d %v", code, out)
	}
	s.waitState("s2", "synced")
	after, err := os.ReadFile(connFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before, after) {
		t.Fatal("the renewed session was not saved back to the connection file")
	}
}

// scimConfigHead is a serve config with the SCIM door on source idp_user
// (token TEST_SCIM_TOKEN) and the emulator's connection, up to its
// mappings.
const scimConfigHead = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
scim:
  source: idp_user
  token_env: TEST_SCIM_TOKEN
` + emulatorConnection + `
sources:
  - name: idp_user
mappings:
`

const scimConfig = scimConfigHead + `  - name: idp_to_contacts
    source: idp_user
    object: Contact
    match:
      fields: [Email]
    operations:
      delete: delete
    fields:
      - target: LastName
        source: familyName
        default: Unknown
      - target: FirstName
        source: givenName
      - target: Email
        source: email
      - target: Department
        source: department
`

// TestServeSCIMToSalesforce: an identity provider's SCIM calls reach
// Salesforce through serve: a User becomes a Contact, a PATCH updates it,
// a DELETE deletes it.
func TestServeSCIMToSalesforce(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(scimConfig, sfURL), map[string]string{"TEST_SCIM_TOKEN": "idp-token"})
	scimDo := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer idp-token")
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, u := scimDo("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},
		"emails":[{"value":"ada@example.com","type":"work","primary":true}],"active":true,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engines"}}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	contact := func() map[string]any {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, rec := s.do("GET", "/api/v1/sources/idp_user/records/"+id, "", true)
			if code == 200 {
				m := rec["mappings"].([]any)[0].(map[string]any)
				if m["state"] == "synced" || m["state"] == "deleted" {
					return m
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("record %s never settled: %v", id, rec)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	st := contact()
	sfID := st["salesforce_id"].(string)
	recs := emuRecords(t, sfURL, "SELECT Id, FirstName, LastName, Email, Department FROM Contact")
	if len(recs) != 1 || recs[0]["LastName"] != "Lovelace" || recs[0]["Department"] != "Engines" || recs[0]["Id"] != sfID {
		t.Fatalf("contacts %v", recs)
	}
	code, _ = scimDo("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"name.familyName","value":"King"}]}`)
	if code != 200 {
		t.Fatalf("patch: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		recs = emuRecords(t, sfURL, "SELECT Id, LastName FROM Contact")
		if len(recs) == 1 && recs[0]["LastName"] == "King" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("contacts after patch %v", recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ = scimDo("DELETE", "/scim/v2/Users/"+id, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if recs = emuRecords(t, sfURL, "SELECT Id FROM Contact"); len(recs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("contacts after delete %v", recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// emuRecords queries the emulator as a client would.
func emuRecords(t *testing.T, loginURL, soql string) []salesforce.Record {
	t.Helper()
	recs, err := emuClient(t, loginURL).QueryRecords(context.Background(), soql)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
