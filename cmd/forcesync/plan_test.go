package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
)

// cliRig is a config on disk against an emulator, for the CLI's plan and
// reconcile commands.
type cliRig struct {
	t    *testing.T
	dir  string
	path string
	vars map[string]string
	url  string
}

func newCLIRig(t *testing.T, url, config string) *cliRig {
	t.Helper()
	dir := t.TempDir()
	r := &cliRig{t: t, dir: dir, path: filepath.Join(dir, "forcesync.yaml"), url: url,
		vars: serveVars()}
	r.write(r.path, config)
	return r
}

func (r *cliRig) write(path, config string) {
	r.t.Helper()
	if err := os.WriteFile(path, []byte(fmt.Sprintf(config, r.url)), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

func (r *cliRig) env(out io.Writer) *Env {
	return &Env{Getenv: func(k string) string { return r.vars[k] }, Stdin: strings.NewReader(""), Stdout: out, Stderr: io.Discard}
}

// run runs the CLI and returns its standard output.
func (r *cliRig) run(args ...string) (string, error) {
	var out bytes.Buffer
	env := r.env(&out)
	err := run(context.Background(), args, env.Getenv, env.Stdin, &out, io.Discard)
	return out.String(), err
}

// push accepts changes as the API would and drains them like serve.
func (r *cliRig) push(source string, cs ...forcesync.Change) {
	r.t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, r.env(io.Discard), r.path, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	defer a.store.Close()
	for i := range cs {
		cs[i].Source = source
	}
	if len(cs) > 0 {
		if _, err := a.store.Accept(ctx, engines(a.engines).MappingsFor(source), cs); err != nil {
			r.t.Fatal(err)
		}
	}
	for _, e := range a.engines {
		if _, err := e.Drain(ctx); err != nil {
			r.t.Fatal(err)
		}
	}
}

// accept only queues changes.
func (r *cliRig) accept(source string, cs ...forcesync.Change) {
	r.t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, r.env(io.Discard), r.path, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	defer a.store.Close()
	for i := range cs {
		cs[i].Source = source
	}
	if _, err := a.store.Accept(ctx, engines(a.engines).MappingsFor(source), cs); err != nil {
		r.t.Fatal(err)
	}
}

func clientChange(key, last, email string) forcesync.Change {
	return forcesync.Change{Key: key, Fields: map[string]any{"last_name": last, "email": email}}
}

func TestPlanCommand(t *testing.T) {
	_, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, serveConfig)
	r.push("client", clientChange("c1", "One", "one@example.com"), clientChange("bad", "Bad", "not-an-email"))
	r.accept("client", clientChange("c1", "Uno", "one@example.com"), clientChange("c2", "Two", "two@example.com"),
		forcesync.Change{Key: "c9", Op: forcesync.OpDelete})

	out, err := r.run("plan", "--config", r.path, "--format", "json")
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var p engine.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan json: %v\n%s", err, out)
	}
	m := p.Mappings[0]
	if want := (engine.PlanCounts{Create: 1, Update: 1, Skipped: 1}); len(p.Mappings) != 1 || m.Counts != want || m.Calls.Collections != 1 || m.Changed {
		t.Fatalf("plan %+v; want %+v in one Collections call", m, want)
	}

	out, err = r.run("plan", "--config", r.path)
	if err != nil || !strings.Contains(out, "create 1, update 1, delete 0, disable 0, no-op 0, held 0, skipped 1") ||
		!strings.Contains(out, `LastName: "One" -> "Uno"`) {
		t.Fatalf("plan table (%v):\n%s", err, out)
	}
	out, err = r.run("plan", "--config", r.path, "--format", "csv")
	rows, cerr := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || cerr != nil || len(rows) != 4 || rows[0][0] != "mapping" {
		t.Fatalf("plan csv (%v, %v):\n%s", err, cerr, out)
	}
	if _, err := r.run("plan", "--config", r.path, "--format", "xml"); err == nil || exitCode(err) != 2 {
		t.Fatalf("--format xml: %v; want a usage error", err)
	}
	if _, err := r.run("plan", "--config", r.path, "--mapping", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("--mapping nope: %v", err)
	}

	// A changed config: Email now falls back to a constant, so the held
	// record would be requeued and now go through.
	next := filepath.Join(r.dir, "new.yaml")
	r.write(next, strings.Replace(serveConfig, "      - target: Email\n        source: email\n",
		"      - target: Email\n        expr: 'email contains \"@\" ? email : \"nobody@example.com\"'\n", 1))
	out, err = r.run("plan", "--config", next, "--format", "json")
	if err != nil {
		t.Fatalf("plan --config new: %v", err)
	}
	p = engine.Plan{}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	m = p.Mappings[0]
	if !m.Changed || m.Requeued != 1 || m.Counts.Create != 2 || m.Counts.Held != 0 {
		t.Fatalf("plan of the new config %+v; want the mapping changed, 1 held record requeued and created", m)
	}
	// Planning wrote nothing: the old config's plan is as before.
	out, _ = r.run("plan", "--config", r.path, "--format", "json")
	p = engine.Plan{}
	json.Unmarshal([]byte(out), &p)
	if p.Mappings[0].Counts.Create != 1 || p.Mappings[0].Changed {
		t.Fatalf("after planning the new config, the old one plans %+v", p.Mappings[0].Counts)
	}
}

func TestPlanAPI(t *testing.T) {
	s := startServe(t)
	code, body := s.do("GET", "/api/v1/plan", "", true)
	ms, _ := body["mappings"].([]any)
	if code != 200 || len(ms) != 1 || ms[0].(map[string]any)["mapping"] != "clients_to_leads" {
		t.Fatalf("GET /api/v1/plan = %d %v", code, body)
	}
	if _, ok := ms[0].(map[string]any)["counts"].(map[string]any)["create"]; !ok {
		t.Fatalf("plan without counts: %v", ms[0])
	}
	if code, body := s.do("GET", "/api/v1/plan?mapping=nope", "", true); code != 404 {
		t.Fatalf("GET /api/v1/plan?mapping=nope = %d %v; want 404", code, body)
	}
	if code, _ := s.do("GET", "/api/v1/plan", "", false); code != 401 {
		t.Fatalf("GET /api/v1/plan without a token = %d; want 401", code)
	}
}

// TestPlanOneMappingOfSeveral: --mapping plans that mapping alone, also
// when the config has mappings after it (the cookbook's identity provider
// story: signups_to_leads, then customers_to_contacts); the selection
// used to take every mapping after the one named.
func TestPlanOneMappingOfSeveral(t *testing.T) {
	_, url := startEmulator(t, emulator.Config{})
	r := newCLIRig(t, url, serveConfig)
	if err := os.WriteFile(r.path, []byte(cookbookForEmulator(t, "## 4.", url)), 0o600); err != nil {
		t.Fatal(err)
	}
	r.vars["FORCESYNC_API_TOKEN"] = "tok"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mapping", "signups_to_leads"}, "signups_to_leads"},
		{[]string{"--mapping", "customers_to_contacts"}, "customers_to_contacts"},
		{nil, "signups_to_leads customers_to_contacts"},
	} {
		out, err := r.run(append([]string{"plan", "--config", r.path, "--format", "json"}, tc.args...)...)
		if err != nil {
			t.Fatalf("plan %v: %v\n%s", tc.args, err, out)
		}
		var p engine.Plan
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("plan json: %v\n%s", err, out)
		}
		var got []string
		for _, m := range p.Mappings {
			got = append(got, m.Mapping)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("plan %v planned %v, want %s", tc.args, got, tc.want)
		}
	}
}
