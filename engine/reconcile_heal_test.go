package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// admin posts body to the emulator's admin API (path under /__emulator/)
// and decodes its JSON answer, if any.
func (r *rig) admin(path string, body any) map[string]any {
	r.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := http.Post(r.url+"/__emulator/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		r.t.Fatalf("POST /__emulator/%s: %s", path, resp.Status)
	}
	out := map[string]any{}
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			r.t.Fatalf("POST /__emulator/%s: %v", path, err)
		}
	}
	return out
}

func (r *rig) reconciler(mappings ...forcesync.Mapping) *engine.Reconciler {
	r.t.Helper()
	pipes, err := engine.Compile(context.Background(), r.api, mappings)
	if err != nil {
		r.t.Fatal(err)
	}
	rc, err := engine.NewReconciler(r.store, r.api, pipes)
	if err != nil {
		r.t.Fatal(err)
	}
	return rc
}

func findingOf(fs []forcesync.Finding, key string, kind forcesync.DriftKind) *forcesync.Finding {
	for i := range fs {
		if fs[i].Key == key && fs[i].Kind == kind {
			return &fs[i]
		}
	}
	return nil
}

// TestReconcileHealsConvertedLeads converts bound Leads through the
// emulator's admin API. Heal moves the record the source's Contact mapping
// takes onto the Contact the Lead became (its External ID stamped there),
// where the next push updates it; the one that mapping does not take is
// left for a person.
func TestReconcileHealsConvertedLeads(t *testing.T) {
	ctx := context.Background()
	ext := forcesync.MatchRule{Kind: forcesync.MatchExternalID, Field: "Forcesync_Key__c"}
	l, c := leadAndContact(ext, ext, "")
	r := newRig(t, engine.Config{BulkThreshold: -1}, l, c)
	// Both records go to the Lead mapping only (the Contact mapping was
	// added later, say): p1 is a customer now, p2 is not.
	if _, err := r.store.Accept(ctx, []string{l.Name}, []forcesync.Change{
		{Source: "person", Key: "p1", Fields: map[string]any{"last": "Ada", "email": "ada@example.com", "stage": "customer"}},
		{Source: "person", Key: "p2", Fields: map[string]any{"last": "Bob", "email": "bob@example.com", "stage": "lead"}},
	}); err != nil {
		t.Fatal(err)
	}
	r.drain()
	leadOf := map[string]string{}
	contactOf := map[string]string{}
	for _, k := range []string{"p1", "p2"} {
		leadOf[k] = r.statusOf(l.Name, k).SalesforceID
		res := r.admin("leads/"+leadOf[k]+"/convert", map[string]any{})
		contactOf[k], _ = res["contactId"].(string)
	}
	rc := r.reconciler(l, c)
	_, fs, err := rc.Reconcile(ctx, l.Name, engine.ReconcileOptions{})
	if err != nil || len(fs) != 2 || findingOf(fs, "p1", forcesync.DriftConverted) == nil || findingOf(fs, "p2", forcesync.DriftConverted) == nil {
		t.Fatalf("findings %+v %v; want p1 and p2 converted", fs, err)
	}
	run, fs, err := rc.Reconcile(ctx, l.Name, engine.ReconcileOptions{Heal: true})
	if err != nil {
		t.Fatal(err)
	}
	f1, f2 := findingOf(fs, "p1", forcesync.DriftConverted), findingOf(fs, "p2", forcesync.DriftConverted)
	if run.Healed != 1 || !f1.Healed || !strings.Contains(f1.Detail, "rebound to Contact "+contactOf["p1"]) ||
		f2.Healed || !strings.Contains(f2.Detail, "filter does not take the record") {
		t.Fatalf("heal: run %+v findings %+v", run, fs)
	}
	r.drain()
	cs := r.statusOf(c.Name, "p1")
	if cs.State != forcesync.StateSynced || cs.SalesforceID != contactOf["p1"] {
		t.Fatalf("p1 under the Contact mapping: %+v; want synced to %s", cs, contactOf["p1"])
	}
	if ls := r.statusOf(l.Name, "p1"); ls.State != forcesync.StateConverted {
		t.Fatalf("p1 under the Lead mapping: %+v; want converted", ls)
	}
	got := r.query("SELECT Id, LastName, Email, Forcesync_Key__c FROM Contact WHERE Forcesync_Key__c = 'p1'")
	if len(got) != 1 || got[0].ID() != contactOf["p1"] || got[0]["LastName"] != "Ada" {
		t.Fatalf("Contacts keyed p1: %+v; want the converted Contact %s", got, contactOf["p1"])
	}
	// p1 is settled; p2 still waits for a person.
	_, fs, err = rc.Reconcile(ctx, l.Name, engine.ReconcileOptions{})
	if err != nil || len(fs) != 1 || fs[0].Key != "p2" {
		t.Fatalf("after the heal: %+v %v", fs, err)
	}
}

// TestReconcileHealsTwins makes a twin of a bound Contact through the
// emulator's admin API. Without deletes allowed the heal leaves it for a
// person; with operations.delete: delete it deletes the unbound twin and
// keeps the bound record, behind the mass-change guard.
func TestReconcileHealsTwins(t *testing.T) {
	ctx := context.Background()
	people := planPeopleByEmail()
	r := newRig(t, engine.Config{BulkThreshold: -1}, people)
	r.accept("person", planPerson("p1", "One", "one@example.com"), planPerson("p2", "Two", "two@example.com"))
	r.drain()
	bound := r.statusOf(people.Name, "p1").SalesforceID
	ids, _ := r.admin("seed", map[string]any{"object": "Contact", "records": []map[string]any{{"LastName": "Twin", "Email": "ONE@example.com"}}})["ids"].([]any)
	if len(ids) != 1 {
		t.Fatal("seeding the twin")
	}
	twin := ids[0].(string)

	run, fs, err := r.reconciler(people).Reconcile(ctx, people.Name, engine.ReconcileOptions{Heal: true})
	f := findingOf(fs, "p1", forcesync.DriftTwins)
	if err != nil || f == nil || f.Healed || run.Healed != 0 || !strings.Contains(f.Detail, "left for a person: the mapping does not delete") {
		t.Fatalf("heal without deletes: %+v %+v %v", run, fs, err)
	}

	people.Operations.Delete = forcesync.DeleteDelete
	people.Guard.MaxRecords = 1
	rc := r.reconciler(people)
	run, fs, err = rc.Reconcile(ctx, people.Name, engine.ReconcileOptions{Heal: true})
	f = findingOf(fs, "p1", forcesync.DriftTwins)
	if err != nil || f == nil || !f.Healed || run.Healed != 1 || !strings.Contains(f.Detail, twin) {
		t.Fatalf("heal: %+v %+v %v", run, fs, err)
	}
	live := r.query("SELECT Id FROM Contact WHERE Email = 'one@example.com'")
	if len(live) != 1 || live[0].ID() != bound {
		t.Fatalf("Contacts with p1's email after the heal: %+v; want only the bound %s", live, bound)
	}
	_, fs, err = rc.Reconcile(ctx, people.Name, engine.ReconcileOptions{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("after the heal: %+v %v", fs, err)
	}

	// Two twins at once pass the guard's limit of one: nothing is deleted.
	r.admin("seed", map[string]any{"object": "Contact", "records": []map[string]any{
		{"LastName": "Twin2", "Email": "two@example.com"}, {"LastName": "Twin3", "Email": "two@example.com"}}})
	_, _, err = rc.Reconcile(ctx, people.Name, engine.ReconcileOptions{Heal: true})
	if !errors.Is(err, engine.ErrHealPaused) {
		t.Fatalf("two twins past the guard: %v", err)
	}
	if n := len(r.query("SELECT Id FROM Contact WHERE Email = 'two@example.com'")); n != 3 {
		t.Fatalf("%d Contacts with p2's email after a paused heal; want 3", n)
	}
}

// TestReconcileBulkReadsOnlyBoundRecords: the Bulk read of a reconcile
// covers the mapping's bound records, not the object: the org's other
// Leads are not read. A bound record whose External ID someone cleared is
// read by Id, not taken for missing.
func TestReconcileBulkReadsOnlyBoundRecords(t *testing.T) {
	ctx := context.Background()
	leads := leadByExtID()
	r := newRig(t, engine.Config{BulkThreshold: -1}, leads)
	r.emu.SetFinishBulkJobsAtOnce(true)
	var others []map[string]any
	for i := range 500 {
		others = append(others, map[string]any{"LastName": fmt.Sprint("Other", i), "Company": "Elsewhere"})
	}
	r.admin("seed", map[string]any{"object": "Lead", "records": others})
	var cs []forcesync.Change
	for i := range 120 {
		k := fmt.Sprint("k", i)
		cs = append(cs, contact(k, "L"+k, k+"@example.com", 60))
	}
	r.accept("contact", cs...)
	r.drain()
	b, _ := r.store.Binding(ctx, leads.Name, "k7")
	if _, err := r.api.Update(ctx, "Lead", []salesforce.Record{{"attributes": map[string]any{"type": "Lead"}, "Id": b.SalesforceID, "Forcesync_Key__c": nil}}); err != nil {
		t.Fatal(err)
	}
	pipes, err := engine.Compile(ctx, r.api, []forcesync.Mapping{leads})
	if err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{SalesforceAPI: r.api}
	rc, err := engine.NewReconciler(r.store, cr, pipes)
	if err != nil {
		t.Fatal(err)
	}
	before := r.calls()
	run, fs, err := rc.Reconcile(ctx, leads.Name, engine.ReconcileOptions{BulkThreshold: 10})
	if err != nil || run.API != "bulk" || run.Checked != 120 || len(fs) != 0 {
		t.Fatalf("run %+v findings %+v %v", run, fs, err)
	}
	if cr.bulkRows != 119 || cr.byID != 1 {
		t.Fatalf("the Bulk read returned %d rows and %d Ids were read by Id; want 119 bound rows (of 620 Leads) and k7 by Id", cr.bulkRows, cr.byID)
	}
	if d := r.calls() - before; int(d) != run.APICalls || d > 10 {
		t.Fatalf("the emulator counted %d calls, the run %d; want equal and at most 10", d, run.APICalls)
	}
}

// countingReader counts what reconcile reads: rows of Bulk queries and
// values looked up by Id.
type countingReader struct {
	*engine.SalesforceAPI
	bulkRows, byID int
}

func (c *countingReader) ReadAll(ctx context.Context, obj string, fields []string, where salesforce.Cond, all bool, fn func(salesforce.Record) error) error {
	return c.SalesforceAPI.ReadAll(ctx, obj, fields, where, all, func(r salesforce.Record) error {
		c.bulkRows++
		return fn(r)
	})
}

func (c *countingReader) ReadWhere(ctx context.Context, obj, field string, values, fields []string, all bool) ([]salesforce.Record, error) {
	if field == "Id" {
		c.byID += len(values)
	}
	return c.SalesforceAPI.ReadWhere(ctx, obj, field, values, fields, all)
}
