package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
)

// The scenario test drives serve through each fault of the emulator, as an
// operator would meet them, and checks after each one that every record is
// in Salesforce exactly once at its newest version (or waits with a clear
// reason), that serve carried on by itself, and that its logs and metrics
// name what happened (issue 9, "Done when").

const scenarioConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
engine:
  workers: 2
  max_backoff: 200ms
  limits_recheck: 200ms
connections:
  - name: org
    login_url: %s
    auth: web_server
    client_id: forcesync-demo
    client_secret: ${TEST_SF_SECRET}
    refresh_token_env: TEST_SF_REFRESH
sources:
  - name: client
mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
      - target: Company
        value: Scenario
        on: create
`

// scenarioOrg is an emulator on a fixed loopback address that can be
// stopped and started again with its data.
type scenarioOrg struct {
	t    *testing.T
	addr string
	file string
	emu  *emulator.Emulator
	srv  *http.Server
}

func (o *scenarioOrg) start() {
	o.t.Helper()
	emu, err := emulator.New(emulator.Config{AutoApprove: true, DataFile: o.file})
	if err != nil {
		o.t.Fatal(err)
	}
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener's port is being released
	}
	if err != nil {
		o.t.Fatal(err)
	}
	o.addr, o.emu = ln.Addr().String(), emu
	o.srv = &http.Server{Handler: emu}
	go o.srv.Serve(ln)
}

func (o *scenarioOrg) stop() {
	o.srv.Close()
	if err := o.emu.Close(); err != nil {
		o.t.Fatal(err)
	}
}

func (o *scenarioOrg) url() string { return "http://" + o.addr }

// refreshToken runs the web-server flow against the emulator (which
// approves at once) and returns the refresh token.
func (o *scenarioOrg) refreshToken() string {
	o.t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirect := "http://127.0.0.1:9/callback"
	q := url.Values{"response_type": {"code"}, "client_id": {emulator.DemoClientID}, "redirect_uri": {redirect},
		"scope": {"api refresh_token"}, "state": {"s"}}
	resp, err := noFollow.Get(o.url() + "/services/oauth2/authorize?" + q.Encode())
	if err != nil {
		o.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		o.t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.PostForm(o.url()+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {loc.Query().Get("code")}, "client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret},
		"redirect_uri": {redirect}})
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.RefreshToken == "" {
		o.t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.RefreshToken
}

// scenarioServe is serve running with its logs captured.
type scenarioServe struct {
	*served
	logs *syncBuffer
	stop func()
}

func startScenarioServe(t *testing.T, dir, config string, vars map[string]string) *scenarioServe {
	t.Helper()
	path := filepath.Join(dir, "forcesync.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	env := &Env{Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: logs}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, env, serveFlags{config: path, listen: "127.0.0.1:0"}, func(a string) { addr <- a })
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	select {
	case a := <-addr:
		return &scenarioServe{served: &served{t: t, path: path, env: env, base: "http://" + a, token: vars["TEST_API_TOKEN"]}, logs: logs, stop: stop}
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil
}

// push sends one version of each key with LastName last.
func (s *scenarioServe) push(version int, last string, keys ...string) {
	s.t.Helper()
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, `{"key":%q,"version":%d,"fields":{"last_name":%q}}`+"\n", k, version, last)
	}
	if code, out := s.do("POST", "/api/v1/sources/client/records", b.String(), true); code != http.StatusAccepted {
		s.t.Fatalf("ingest: %d %v", code, out)
	}
}

// waitSynced waits until every key is synced at version.
func (s *scenarioServe) waitSynced(version int, keys ...string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, k := range keys {
		for {
			code, body := s.do("GET", "/api/v1/sources/client/records/"+k, "", true)
			if code == 200 {
				m := body["mappings"].([]any)[0].(map[string]any)
				if m["state"] == "synced" && m["version"] == float64(version) {
					break
				}
				if time.Now().After(deadline) {
					s.t.Fatalf("record %s not synced at version %d: %v\nlogs:\n%s", k, version, m, s.logs.String())
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// record returns a key's status under the mapping.
func (s *scenarioServe) record(key string) map[string]any {
	s.t.Helper()
	code, body := s.do("GET", "/api/v1/sources/client/records/"+key, "", true)
	if code != 200 {
		s.t.Fatalf("record %s: %d %v", key, code, body)
	}
	return body["mappings"].([]any)[0].(map[string]any)
}

// events returns the structured log lines whose event is name.
func (s *scenarioServe) events(name string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			s.t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["event"] == name {
			out = append(out, m)
		}
	}
	return out
}

// waitEvent waits for a log event and returns its last occurrence.
func (s *scenarioServe) waitEvent(name string) map[string]any {
	s.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if evs := s.events(name); len(evs) > 0 {
			return evs[len(evs)-1]
		}
	}
	s.t.Fatalf("no %s in the logs:\n%s", name, s.logs.String())
	return nil
}

func (s *scenarioServe) health() (int, map[string]any) {
	s.t.Helper()
	return s.do("GET", "/healthz", "", false)
}

// inSalesforce checks that each key is one Lead whose LastName is last.
func inSalesforce(t *testing.T, loginURL, last string, keys ...string) {
	t.Helper()
	recs := emuRecords(t, loginURL, "SELECT Id, Forcesync_Key__c, LastName FROM Lead")
	n := map[string]int{}
	names := map[string]string{}
	for _, r := range recs {
		k, _ := r["Forcesync_Key__c"].(string)
		n[k]++
		names[k], _ = r["LastName"].(string)
	}
	for _, k := range keys {
		if n[k] != 1 || names[k] != last {
			t.Fatalf("key %s: %d leads, LastName %q; want one with %q", k, n[k], names[k], last)
		}
	}
}

func keysOf(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestServeThroughFaults(t *testing.T) {
	dir := t.TempDir()
	org := &scenarioOrg{t: t, file: filepath.Join(dir, "org.json")}
	org.start()
	t.Cleanup(func() { org.srv.Close(); org.emu.Close() })
	vars := map[string]string{"TEST_API_TOKEN": "s3cret-token", "TEST_SF_SECRET": emulator.DemoClientSecret,
		"TEST_SF_REFRESH": org.refreshToken()}
	cfg := fmt.Sprintf(scenarioConfig, org.url())
	s := startScenarioServe(t, dir, cfg, vars)
	base := keysOf("k", 5)
	s.push(1, "Base", base...)
	s.waitSynced(1, base...)
	version := 1
	// every fault: the base keys get a new version, plus new keys of its own.
	round := func(name string, fresh int) []string {
		t.Helper()
		version++
		keys := append(append([]string(nil), base...), keysOf(name, fresh)...)
		s.push(version, name, keys...)
		return keys
	}
	settle := func(name string, keys []string) {
		t.Helper()
		s.waitSynced(version, keys...)
		org.emu.ClearFaults()
		inSalesforce(t, org.url(), name, keys...)
	}

	// Each phase is one fault; a failure stops the test (later phases
	// build on earlier ones).
	phase := func(name string, fn func()) {
		t.Logf("fault: %s", name)
		fn()
	}

	phase("5xx storm", func() {
		// Six writes in a row fail: the client's four attempts, then a
		// retry wave of the engine.
		_, err := org.emu.AddFault(emulator.Fault{Type: emulator.FaultError, Status: 500, Method: "*",
			Path: "/services/data/*/composite/sobjects/**", Count: 6})
		if err != nil {
			t.Fatal(err)
		}
		keys := round("storm", 3)
		settle("storm", keys)
		if ev := s.waitEvent("push.retry"); ev["mapping"] != "clients_to_leads" || !strings.Contains(ev["codes"].(string), "UNKNOWN_EXCEPTION") {
			t.Fatalf("retry event %v", ev)
		}
		if n := s.metric("forcesync_salesforce_calls_total", `status="500"`); n < 5 {
			t.Fatalf("metrics count %v calls answered 500", n)
		}
		if code, h := s.health(); code != 200 {
			t.Fatalf("healthz after the storm: %d %v", code, h)
		}
	})

	phase("latency", func() {
		if _, err := org.emu.AddFault(emulator.Fault{Type: emulator.FaultLatency, Method: "*",
			Path: "/services/data/*/composite/sobjects/**", Latency: 600 * time.Millisecond, Count: 1}); err != nil {
			t.Fatal(err)
		}
		keys := round("slow", 2)
		settle("slow", keys)
		all := s.metric("forcesync_salesforce_call_duration_seconds_count", `kind="collections"`)
		fast := s.metric("forcesync_salesforce_call_duration_seconds_bucket", `kind="collections"`, `le="0.5"`)
		if all-fast < 1 {
			t.Fatalf("the latency histogram shows no call over 0.5s (%v of %v under)", fast, all)
		}
	})

	phase("drop after commit", func() {
		if _, err := org.emu.AddFault(emulator.Fault{Type: emulator.FaultDropAfterCommit, Method: "*",
			Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
			t.Fatal(err)
		}
		keys := round("drop", 3)
		settle("drop", keys) // exactly once: the resend was an upsert
		if n := s.metric("forcesync_salesforce_calls_total", `kind="collections"`, `status="error"`); n < 1 {
			t.Fatal("metrics show no call without an answer")
		}
	})

	phase("UNABLE_TO_LOCK_ROW", func() {
		if _, err := org.emu.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Method: "*",
			Path: "/services/data/*/composite/sobjects/**", Count: 1}); err != nil {
			t.Fatal(err)
		}
		before := len(s.events("push.retry"))
		keys := round("lock", 2)
		settle("lock", keys)
		evs := s.events("push.retry")
		if len(evs) <= before || !strings.Contains(evs[len(evs)-1]["codes"].(string), "UNABLE_TO_LOCK_ROW") {
			t.Fatalf("no retry event naming the lock: %v", evs)
		}
		if n := s.metric("forcesync_records_pushed_total", `outcome="retrying"`); n < float64(len(keys)) {
			t.Fatalf("metrics count %v retrying records", n)
		}
	})

	phase("expired sessions", func() {
		if _, err := org.emu.AddFault(emulator.Fault{Type: emulator.FaultExpireSessions, Method: "*",
			Path: "/services/data/**", Count: 1}); err != nil {
			t.Fatal(err)
		}
		keys := round("expired", 2)
		settle("expired", keys)
		if ev := s.waitEvent("salesforce.relogin"); ev["connection"] != "org" {
			t.Fatalf("relogin event %v", ev)
		}
	})

	phase("daily limit reached then restored", func() {
		_, max := org.emu.APIUsage()
		org.emu.SetAPIUsage(max, max)
		keys := round("limit", 2)
		pause := s.waitEvent("budget.pause")
		if !strings.Contains(pause["reason"].(string), "reserve") {
			t.Fatalf("pause event %v", pause)
		}
		code, h := s.health()
		if code != 200 || h["status"] != "paused" || !strings.Contains(h["reason"].(string), "reserve") {
			t.Fatalf("healthz while paused: %d %v", code, h)
		}
		if v := s.metric("forcesync_budget_paused", `lane="realtime"`); v != 1 {
			t.Fatalf("forcesync_budget_paused{lane=realtime} = %v", v)
		}
		var out syncBuffer
		if err := run(context.Background(), []string{"status", "--config", s.path}, s.env.Getenv, strings.NewReader(""), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "PAUSED") || !strings.Contains(out.String(), "reserve") {
			t.Fatalf("status does not show the pause:\n%s", out.String())
		}
		for _, k := range keys {
			if st := s.record(k); st["state"] == "synced" && st["version"] == float64(version) {
				t.Fatalf("%s synced while the allowance was spent", k)
			}
		}
		org.emu.SetAPIUsage(10, max) // the rolling window moved on
		settle("limit", keys)
		if ev := s.waitEvent("budget.resume"); ev["connection"] != "org" {
			t.Fatalf("resume event %v", ev)
		}
		if code, h := s.health(); code != 200 || h["status"] != "ok" {
			t.Fatalf("healthz after resuming: %d %v", code, h)
		}
	})

	phase("emulator restart", func() {
		org.stop()
		before := len(s.events("salesforce.outage_start"))
		keys := round("restart", 2)
		for deadline := time.Now().Add(30 * time.Second); len(s.events("salesforce.outage_start")) == before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no outage logged:\n%s", s.logs.String())
			}
		}
		code, h := s.health()
		if code != http.StatusServiceUnavailable || h["status"] != "unhealthy" || !strings.Contains(h["reason"].(string), "unreachable") {
			t.Fatalf("healthz during the outage: %d %v", code, h)
		}
		if v := s.metric("forcesync_salesforce_up"); v != 0 {
			t.Fatalf("forcesync_salesforce_up = %v during the outage", v)
		}
		org.start()
		settle("restart", keys)
		start, end := s.waitEvent("salesforce.outage_start"), s.waitEvent("salesforce.outage_end")
		if start["connection"] != "org" || !strings.Contains(start["last_error"].(string), "refused") || end["failures"].(float64) < 3 {
			t.Fatalf("outage events %v %v", start, end)
		}
		if code, h := s.health(); code != 200 {
			t.Fatalf("healthz after the restart: %d %v", code, h)
		}
	})

	phase("revoked refresh token", func() {
		resp, err := http.PostForm(org.url()+"/services/oauth2/revoke", url.Values{"token": {vars["TEST_SF_REFRESH"]}})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("revoke: %v %v", resp, err)
		}
		resp.Body.Close()
		version++
		keys := append(append([]string(nil), base...), "revoked0")
		s.push(version, "revoked", keys...)
		ev := s.waitEvent("salesforce.token_revoked")
		if ev["connection"] != "org" || strings.Contains(s.logs.String(), vars["TEST_SF_REFRESH"]) {
			t.Fatalf("revoked event %v (or the token in the logs)", ev)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			st := s.record("revoked0")
			if e, _ := st["error"].(map[string]any); e != nil && e["code"] == "AUTH_INVALID_GRANT" {
				break // waits with a clear reason; nothing is lost
			}
			if time.Now().After(deadline) {
				t.Fatalf("record after the revoke: %v", st)
			}
		}
		code, h := s.health()
		if code != http.StatusServiceUnavailable || !strings.Contains(h["reason"].(string), "log in again") {
			t.Fatalf("healthz with a revoked token: %d %v", code, h)
		}
		// The operator logs in again; serve restarted with the new token
		// delivers what waited, once.
		s.stop()
		vars["TEST_SF_REFRESH"] = org.refreshToken()
		s = startScenarioServe(t, dir, cfg, vars)
		s.waitSynced(version, keys...)
		inSalesforce(t, org.url(), "revoked", keys...)
	})
}
