package pull_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/pull"
)

var tierField = emulator.FieldConfig{Name: "Tier__c", Type: "string", Length: 40}

// tierRig is a rig whose Lead has Tier__c, pulled and pushed both ways
// by the mapping leads.
func tierRig(t *testing.T) *rig {
	t.Helper()
	m := leadsBoth(forcesync.NewestWins)
	m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Tier__c", SourceField: "tier"})
	tr := testrig.New(t, testrig.Options{Emulator: emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Lead",
		Fields: []emulator.FieldConfig{tierField}}}}, Engine: engine.Config{Workers: 1, SchemaEvery: -1}}, m)
	return &rig{Rig: tr, t: t, emu: tr.Emu, client: tr.Client, store: tr.Store, eng: tr.Eng, m: m, path: tr.Path, pstore: tr.Store}
}

// heldBy ties a puller to the engine's schema drift guard, as serve does.
func heldBy(r *rig) func(*pull.Config) {
	return func(c *pull.Config) {
		c.Hold = func() string { return r.eng.SchemaPaused()[r.m.Name] }
		c.Current = func() *mapping.Compiled {
			for _, p := range r.eng.Pipes() {
				if p.Mapping.Name == r.m.Name {
					return p.Compiled
				}
			}
			return nil
		}
	}
}

// TestPullHeldWhileTheSchemaPausesTheMapping: Tier__c is deleted in
// Salesforce and the engine pauses leads. Its puller polls nothing (no
// call, a *HeldError), and a puller built then (a start while paused) is
// built without the describe it would not fit, where one built without
// the hold is refused naming the field. A sales rep edits the Lead
// meanwhile. The field comes back and the engine's schema check resumes
// the mapping: both pullers poll again, and the edit made while held is
// taken, once.
func TestPullHeldWhileTheSchemaPausesTheMapping(t *testing.T) {
	ctx := context.Background()
	r := tierRig(t)
	running := r.puller(heldBy(r))
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "tier": "gold"})
	r.drain()
	id := r.sfID("k1")
	r.poll(running) // forcesync's own create: an echo

	if err := r.emu.DeleteField("Lead", "Tier__c"); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if r.eng.SchemaPaused()[r.m.Name] == "" {
		t.Fatal("leads not paused by the deleted field")
	}
	before := r.calls()
	_, err := running.Poll(ctx)
	var held *pull.HeldError
	if !errors.As(err, &held) || held.Mapping != "leads" || !strings.Contains(held.Reason, "Tier__c") {
		t.Fatalf("poll while paused: %v; want a HeldError naming Tier__c", err)
	}
	if d := r.calls() - before; d != 0 {
		t.Fatalf("a held poll cost %d calls", d)
	}
	if err := r.emu.UpdateAs("Lead", id, map[string]any{"Phone": "222"}); err != nil {
		t.Fatal(err)
	}

	// A start while paused: the compiled form is the one of before the
	// pause (the engine's), the org's describe lacks Tier__c.
	r.client.ForgetDescribe("Lead")
	compiled := heldCompiled(r)
	if _, err := pull.New(ctx, pull.Config{Mapping: r.m, Compiled: compiled, Store: r.store, Querier: r.client}); forcesync.ErrorCode(err) != forcesync.EInvalid ||
		!strings.Contains(err.Error(), "has no field Tier__c") {
		t.Fatalf("a puller built without the hold: %v; want EInvalid naming Tier__c", err)
	}
	before = r.calls()
	cfg := pull.Config{Mapping: r.m, Compiled: compiled, Store: r.store, Querier: r.client, Queue: r.eng.MappingsFor(r.m.Source)}
	heldBy(r)(&cfg)
	started, err := pull.New(ctx, cfg)
	if err != nil {
		t.Fatalf("a puller built while paused: %v", err)
	}
	if _, err := started.Poll(ctx); !errors.As(err, &held) {
		t.Fatalf("its poll: %v; want held", err)
	}
	if d := r.calls() - before; d != 0 {
		t.Fatalf("building and polling a held puller cost %d calls", d)
	}

	// The administrator creates the field again; the schema check resumes.
	if err := r.emu.AddField("Lead", tierField); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if why := r.eng.SchemaPaused()[r.m.Name]; why != "" {
		t.Fatalf("still paused: %s", why)
	}
	if st := r.poll(started); st.Changed != 1 {
		t.Fatalf("the first poll after the hold: %+v; want the edit made while held", st)
	}
	if got := r.src("k1").Fields["phone"]; got != "222" {
		t.Fatalf("k1's phone is %v, want 222 from Salesforce", got)
	}
	if st := r.poll(running); st.Changed != 0 {
		t.Fatalf("the running puller, resumed, took the edit again: %+v", st)
	}
}

// TestPullRefusedForTheSchemaPausesTheMapping: Tier__c is deleted in
// Salesforce and nothing is pushed, so only the poll learns it: the query
// is refused with INVALID_FIELD, Config.Suspect (the engine's
// SuspectSchema, as serve passes it) checks the schema at once, and the
// engine pauses the mapping. The next poll is held, with no call. Suspect
// is not told of held polls.
func TestPullRefusedForTheSchemaPausesTheMapping(t *testing.T) {
	ctx := context.Background()
	r := tierRig(t)
	var mu sync.Mutex
	var told []error
	p := r.puller(func(c *pull.Config) {
		heldBy(r)(c)
		c.Suspect = func(ctx context.Context, err error) {
			mu.Lock()
			told = append(told, err)
			mu.Unlock()
			r.eng.SuspectSchema(ctx, r.m.Name, err)
		}
	})
	r.poll(p)
	if err := r.emu.DeleteField("Lead", "Tier__c"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(ctx); err == nil || !strings.Contains(err.Error(), "INVALID_FIELD") {
		t.Fatalf("the poll after the delete: %v; want INVALID_FIELD", err)
	}
	if why := r.eng.SchemaPaused()[r.m.Name]; !strings.Contains(why, "Tier__c") {
		t.Fatalf("leads paused %q after the refused poll; want paused naming Tier__c", why)
	}
	before := r.calls()
	var held *pull.HeldError
	for range 3 {
		if _, err := p.Poll(ctx); !errors.As(err, &held) {
			t.Fatalf("a poll after the pause: %v; want held", err)
		}
	}
	if d := r.calls() - before; d != 0 {
		t.Fatalf("held polls cost %d calls", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(told) != 1 {
		t.Fatalf("Suspect told of %d polls, want the refused one: %v", len(told), told)
	}
}

// heldCompiled is the engine's compiled form of the paused mapping.
func heldCompiled(r *rig) *mapping.Compiled {
	for _, p := range r.eng.Pipes() {
		if p.Mapping.Name == r.m.Name {
			return p.Compiled
		}
	}
	r.t.Fatal("no pipe for " + r.m.Name)
	return nil
}

// TestRunnerLogsAHoldOnce: a runner whose puller is held logs it once at
// warn (event pull.held, with the mapping and why) however many polls it
// holds, lists it in Held, and logs pull.resume when the hold lifts.
func TestRunnerLogsAHoldOnce(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	var mu sync.Mutex
	why := "the schema of Lead changed"
	hold := func() string { mu.Lock(); defer mu.Unlock(); return why }
	m := r.m
	m.Pull = &forcesync.PullConfig{Conflict: forcesync.NewestWins, Into: []string{"source"}, PollInterval: 5 * time.Millisecond}
	r.m = m
	p := r.puller(func(c *pull.Config) { c.Hold = hold })
	var logs syncLog
	type poll struct{ held, ran int }
	var n poll
	polled := make(chan struct{}, 1000)
	run := &pull.Runner{Pullers: []*pull.Puller{p}, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Polled: func(_ string, _ pull.Stats, err error) {
			mu.Lock()
			var he *pull.HeldError
			if errors.As(err, &he) {
				n.held++
			} else if err == nil {
				n.ran++
			}
			mu.Unlock()
			polled <- struct{}{}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	count := func() poll { mu.Lock(); defer mu.Unlock(); return n }
	waitPolls := func(ok func(poll) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for !ok(count()) {
			select {
			case <-polled:
			case <-deadline:
				t.Fatalf("polls: %+v", count())
			}
		}
	}
	waitPolls(func(n poll) bool { return n.held >= 5 })
	if got := run.Held(); got["leads"] != why || len(got) != 1 {
		t.Fatalf("Held() = %v", got)
	}
	if c := strings.Count(logs.String(), `"event":"pull.held"`); c != 1 || !strings.Contains(logs.String(), `"level":"WARN"`) ||
		!strings.Contains(logs.String(), `"mapping":"leads"`) || !strings.Contains(logs.String(), why) {
		t.Fatalf("pull.held logged %d times, want once at warn with the mapping and why:\n%s", c, logs.String())
	}
	mu.Lock()
	why = ""
	mu.Unlock()
	waitPolls(func(n poll) bool { return n.ran >= 2 })
	if got := run.Held(); len(got) != 0 {
		t.Fatalf("Held() after the hold lifted = %v", got)
	}
	if c := strings.Count(logs.String(), `"event":"pull.resume"`); c != 1 {
		t.Fatalf("pull.resume logged %d times, want once:\n%s", c, logs.String())
	}
}

// syncLog is a log buffer safe for the runner's goroutines and the test.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }

func (l *syncLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
