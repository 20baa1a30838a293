package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/pull"
)

// membersRow is the field row of the two-way mapping members that the
// tests of a held pull delete in Salesforce.
const membersRow = "      - {target: Tier__c, source: tier}\n"

// membersConfig is serveConfig (clients_to_leads pushes Leads) with a
// second source, member, pulled and pushed both ways as Contacts by
// members, which polls every 200ms.
func membersConfig(sfURL string) string {
	return strings.Replace(fmt.Sprintf(serveConfig, sfURL), "  - name: client\n", "  - name: client\n  - name: member\n", 1) + `  - name: members
    source: member
    object: Contact
    direction: both
    match:
      external_id: Member_Id__c
    pull:
      poll_interval: 200ms
      into: [source]
    fields:
      - {target: LastName, source: last_name}
` + membersRow
}

// tierField is Contact's Tier__c, which the tests delete and create again.
var tierField = emulator.FieldConfig{Name: "Tier__c", Type: "string", Length: 40}

func membersEmulator(t *testing.T) (*emulator.Emulator, string) {
	return startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Contact", Fields: []emulator.FieldConfig{
		{Name: "Member_Id__c", Type: "string", Length: 80, Unique: true, ExternalID: true}, tierField}}}})
}

// serveLogged runs forcesync serve on the config file at path until the
// test ends or s.stop, keeping its logs.
func serveLogged(t *testing.T, emu *emulator.Emulator, path string) (*served, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	return serveFileTo(t, emu, path, nil, logs), logs
}

// ingest sends records to a source of s.
func (s *served) ingest(source, body string) {
	s.t.Helper()
	if code, out := s.do("POST", "/api/v1/sources/"+source+"/records", body, true); code != http.StatusAccepted {
		s.t.Fatalf("ingest into %s: %d %v", source, code, out)
	}
}

// record reads a source record as the REST API shows it.
func (s *served) record(source, key string) map[string]any {
	s.t.Helper()
	code, body := s.do("GET", "/api/v1/sources/"+source+"/records/"+key, "", true)
	if code != http.StatusOK {
		s.t.Fatalf("record %s/%s: %d %v", source, key, code, body)
	}
	return body
}

// memberState is the state of a member record's mapping, "" before it has one.
func (s *served) memberState(key string) string {
	s.t.Helper()
	ms, _ := s.record("member", key)["mappings"].([]any)
	if len(ms) != 1 {
		return ""
	}
	st, _ := ms[0].(map[string]any)["state"].(string)
	return st
}

// pauseMembers stages the schema pause of members under a running serve:
// Contact m1 is pushed, Tier__c is deleted in Salesforce, and the push of
// m2 is refused (INVALID_FIELD), so the engine pauses the mapping and
// stores the pause with the describe it fitted. It returns Contact m1's Id.
func pauseMembers(t *testing.T, s *served, sfURL string, logs *syncBuffer) string {
	t.Helper()
	s.ingest("member", `[{"key":"m1","fields":{"last_name":"One","tier":"gold"}}]`)
	waitUntil(t, "Contact m1", func() bool { return len(emuRecords(t, sfURL, "SELECT Id FROM Contact WHERE Tier__c = 'gold'")) == 1 })
	id := fmt.Sprint(emuRecords(t, sfURL, "SELECT Id FROM Contact WHERE Member_Id__c = 'm1'")[0]["Id"])
	if err := s.emu.DeleteField("Contact", "Tier__c"); err != nil {
		t.Fatal(err)
	}
	s.ingest("member", `[{"key":"m2","fields":{"last_name":"Two","tier":"gold"}}]`)
	waitUntil(t, "the schema pause of members", func() bool { return strings.Contains(logs.String(), `"event":"schema.pause"`) })
	return id
}

// polls records the pull runner's polls (pollHook), by mapping.
type polls struct {
	mu   sync.Mutex
	held map[string]int // polls answered *pull.HeldError
	ran  map[string]int // polls that asked Salesforce (and succeeded)
	errs map[string][]error
}

func watchPolls(t *testing.T) *polls {
	p := &polls{held: map[string]int{}, ran: map[string]int{}, errs: map[string][]error{}}
	pollHook = func(mapping string, _ pull.Stats, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		var he *pull.HeldError
		switch {
		case errors.As(err, &he):
			p.held[mapping]++
		case err != nil:
			p.errs[mapping] = append(p.errs[mapping], err)
		default:
			p.ran[mapping]++
		}
	}
	t.Cleanup(func() { pollHook = nil })
	return p
}

func (p *polls) counts(mapping string) (held, ran int, errs []error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[mapping], p.ran[mapping], append([]error(nil), p.errs[mapping]...)
}

// TestServeStartsWithAPausedPullMapping: the two-way mapping members was
// paused because Tier__c was deleted in Salesforce (the pause is stored).
// serve starts anyway: clients_to_leads ingests and pushes; members' pull
// is held (logged once at warn, forcesync_pull_held 1) and asks
// Salesforce nothing, while a sales rep edits Contact m1. The field comes
// back; the engine's periodic schema check resumes the mapping, and with
// it the pull, which takes the edit made while it was held; the queued
// push of m2 goes out too.
func TestServeStartsWithAPausedPullMapping(t *testing.T) {
	emu, sfURL := membersEmulator(t)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(membersConfig(sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	first, logs := serveLogged(t, emu, path)
	m1 := pauseMembers(t, first, sfURL, logs)
	first.stop()

	seen := watchPolls(t)
	serveTune = func(c *engine.Config) { c.SchemaEvery = 100 * time.Millisecond }
	t.Cleanup(func() { serveTune = nil })
	s, logs := serveLogged(t, emu, path)

	// The other mapping works.
	s.ingest("client", `[{"key":"c1","fields":{"last_name":"After","email":"after@example.com"}}]`)
	s.waitState("c1", "synced")
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Lead WHERE Forcesync_Key__c = 'c1'")); n != 1 {
		t.Fatalf("Salesforce holds %d Leads c1, want 1", n)
	}

	// members is held: polls answer held and no query reaches Salesforce
	// (nothing else of this config queries).
	emu.ResetStats()
	if err := emu.UpdateAs("Contact", m1, map[string]any{"LastName": "Uno"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "ten held polls of members", func() bool { held, _, _ := seen.counts("members"); return held >= 10 })
	if held, ran, errs := seen.counts("members"); ran != 0 || len(errs) != 0 {
		t.Fatalf("members polled while held: %d held, %d ran, errors %v", held, ran, errs)
	}
	if n := emu.Stats()[emulator.KindQuery]; n != 0 {
		t.Fatalf("%d query calls reached Salesforce while members' pull was held", n)
	}
	if v := s.metric("forcesync_pull_held", `mapping="members"`); v != 1 {
		t.Fatalf("forcesync_pull_held{mapping=members} = %v, want 1", v)
	}
	if n := strings.Count(logs.String(), `"event":"pull.held"`); n != 1 {
		t.Fatalf("pull.held logged %d times, want once:\n%s", n, logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"event":"pull.held"`) &&
			(!strings.Contains(line, `"level":"WARN"`) || !strings.Contains(line, `"mapping":"members"`) || !strings.Contains(line, "Tier__c")) {
			t.Fatalf("pull.held does not name the level, the mapping and the field: %s", line)
		}
	}
	if got := s.record("member", "m1")["fields"].(map[string]any)["last_name"]; got != "One" {
		t.Fatalf("m1's last_name is %v while the pull is held, want One", got)
	}

	// The administrator creates the field again; the schema check finds it.
	if err := emu.AddField("Contact", tierField); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "m1's edit pulled", func() bool { return s.record("member", "m1")["fields"].(map[string]any)["last_name"] == "Uno" })
	// The puller logs its resume once the poll that pulled the edit
	// returned, after the edit was committed: wait for the line.
	waitUntil(t, "the resume logged", func() bool {
		l := logs.String()
		return strings.Contains(l, `"event":"schema.resume"`) && strings.Contains(l, `"event":"pull.resume"`)
	})
	// The poll that pulled the edit is told to the hook once it returned,
	// after its records were committed: wait for it.
	waitUntil(t, "members' pull polled after the field came back", func() bool { _, ran, _ := seen.counts("members"); return ran > 0 })
	waitUntil(t, "m2 synced", func() bool { return s.memberState("m2") == "synced" })
	if n := len(emuRecords(t, sfURL, "SELECT Id FROM Contact WHERE Member_Id__c = 'm2' AND Tier__c = 'gold'")); n != 1 {
		t.Fatalf("Salesforce holds %d Contacts m2 with Tier__c gold, want 1", n)
	}
	if v := s.metric("forcesync_pull_held", `mapping="members"`); v != 0 {
		t.Fatalf("forcesync_pull_held{mapping=members} = %v after the resume, want 0", v)
	}
}

// TestServeReloadResumesAPausedPull: while members is paused (and its pull
// held, at run time: the pause came while serve ran), the config drops the
// deleted field and serve reloads. The new config fits the org, so the
// mapping and its pull resume: a sales rep's edit made while it was held
// reaches the source record.
func TestServeReloadResumesAPausedPull(t *testing.T) {
	emu, sfURL := membersEmulator(t)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	cfg := membersConfig(sfURL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	seen := watchPolls(t)
	s, logs := serveLogged(t, emu, path)
	m1 := pauseMembers(t, s, sfURL, logs)
	waitUntil(t, "members' pull held", func() bool { held, _, _ := seen.counts("members"); return held > 0 })
	if err := emu.UpdateAs("Contact", m1, map[string]any{"LastName": "Uno"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(cfg, membersRow, "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reload", func() bool { return strings.Contains(logs.String(), "config reloaded") })
	waitUntil(t, "m1's edit pulled", func() bool { return s.record("member", "m1")["fields"].(map[string]any)["last_name"] == "Uno" })
	if strings.Contains(logs.String(), "reload failed") {
		t.Fatalf("the reload failed:\n%s", logs.String())
	}
	waitUntil(t, "m2 synced", func() bool { return s.memberState("m2") == "synced" })
}

// pullOnlyConfig is serveConfig with a source, member, into which the
// pull-only mapping members_in pulls Contacts (Tier__c among their
// fields) every 50ms.
func pullOnlyConfig(sfURL string) string {
	return strings.Replace(fmt.Sprintf(serveConfig, sfURL), "  - name: client\n", "  - name: client\n  - name: member\n", 1) + `  - name: members_in
    source: member
    object: Contact
    direction: pull
    match:
      external_id: Member_Id__c
    pull:
      poll_interval: 50ms
      into: [source]
    fields:
      - {target: LastName, source: last_name}
      - {target: Tier__c, source: tier}
`
}

// TestServePausesAPullOnlyMappingWhenItsPollIsRefused: members_in pulls
// only, so no push is ever refused to tell the engine that Tier__c was
// deleted in Salesforce. The poll Salesforce refuses (INVALID_FIELD) has
// the engine check the mapping's schema at once: the mapping is paused
// (logged, stored) after that one failed poll, long before the periodic
// check (3s here) would have found it, and its polls are then held,
// asking Salesforce nothing. The field comes back and the periodic check
// resumes the mapping: a sales rep's edit made while held is pulled.
func TestServePausesAPullOnlyMappingWhenItsPollIsRefused(t *testing.T) {
	emu, sfURL := membersEmulator(t)
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	if err := os.WriteFile(path, []byte(pullOnlyConfig(sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	ids, err := emu.Seed("Contact", []map[string]any{{"LastName": "One", "Member_Id__c": "m1", "Tier__c": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	id := ids[0]
	seen := watchPolls(t)
	serveTune = func(c *engine.Config) { c.SchemaEvery = 3 * time.Second }
	t.Cleanup(func() { serveTune = nil })
	s, logs := serveLogged(t, emu, path)
	waitUntil(t, "m1 pulled", func() bool {
		code, body := s.do("GET", "/api/v1/sources/member/records/m1", "", true)
		f, _ := body["fields"].(map[string]any)
		return code == http.StatusOK && f["tier"] == "gold"
	})

	if err := emu.DeleteField("Contact", "Tier__c"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "members_in's pull held", func() bool { held, _, _ := seen.counts("members_in"); return held > 0 })
	_, _, errs := seen.counts("members_in")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "INVALID_FIELD") {
		t.Fatalf("members_in's polls failed %d times before the hold (%v); want once, with INVALID_FIELD", len(errs), errs)
	}
	l := logs.String()
	if !strings.Contains(l, `"event":"schema.pause"`) || !strings.Contains(l, `"event":"pull.held"`) {
		t.Fatalf("the pause and the hold were not logged:\n%s", l)
	}
	if n := strings.Count(l, "schema check failed"); n != 0 {
		t.Fatalf("a schema check failed:\n%s", l)
	}

	// Held: no query reaches Salesforce, and the pause is stored.
	emu.ResetStats()
	if err := emu.UpdateAs("Contact", id, map[string]any{"LastName": "Uno"}); err != nil {
		t.Fatal(err)
	}
	held0, _, _ := seen.counts("members_in")
	waitUntil(t, "ten more held polls", func() bool { held, _, _ := seen.counts("members_in"); return held >= held0+10 })
	if n := emu.Stats()[emulator.KindQuery]; n != 0 {
		t.Fatalf("%d query calls reached Salesforce while members_in's pull was held", n)
	}
	if _, _, errs := seen.counts("members_in"); len(errs) != 1 {
		t.Fatalf("members_in's polls failed again while held: %v", errs)
	}
	if v := s.metric("forcesync_pull_held", `mapping="members_in"`); v != 1 {
		t.Fatalf("forcesync_pull_held{mapping=members_in} = %v, want 1", v)
	}
	if v := s.metric("forcesync_mapping_schema_paused", `mapping="members_in"`); v != 1 {
		t.Fatalf("forcesync_mapping_schema_paused{mapping=members_in} = %v, want 1", v)
	}

	// The administrator creates the field again; the periodic check
	// resumes the mapping and its pull.
	if err := emu.AddField("Contact", tierField); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "m1's edit pulled", func() bool { return s.record("member", "m1")["fields"].(map[string]any)["last_name"] == "Uno" })
	l = logs.String()
	if !strings.Contains(l, `"event":"schema.resume"`) || !strings.Contains(l, `"event":"pull.resume"`) {
		t.Fatalf("the resume was not logged:\n%s", l)
	}
	if v := s.metric("forcesync_pull_held", `mapping="members_in"`); v != 0 {
		t.Fatalf("forcesync_pull_held{mapping=members_in} = %v after the resume, want 0", v)
	}
}
