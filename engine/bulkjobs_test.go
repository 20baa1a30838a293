package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// TestBulkJobsNotedWhileRunning: a Bulk push notes its job in the store
// before sending data and forgets it once the results are in.
func TestBulkJobsNotedWhileRunning(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: 10}, leadByExtID())
	r.emu.SetFinishBulkJobsAtOnce(true)
	var cs []forcesync.Change
	for i := range 20 {
		cs = append(cs, contact(fmt.Sprint(i), "B", fmt.Sprintf("b%d@example.com", i), 80))
	}
	r.accept("contact", cs...)
	r.drain()
	if jobs, err := r.store.BulkJobs(context.Background(), "default"); err != nil || len(jobs) != 0 {
		t.Fatalf("jobs still noted after their results came: %+v %v", jobs, err)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 20 {
		t.Fatalf("%d leads", n)
	}
}

// TestOrphanedBulkJobAbortedAtStart: a job noted by a process that was
// killed is aborted by the next engine to start, and forgotten (main had
// no record of jobs in flight: they stayed open or ran on).
func TestOrphanedBulkJobAbortedAtStart(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	ctx := context.Background()
	b := r.api.Client.Bulk(salesforce.BulkConfig{})
	info, err := b.CreateIngestJob(ctx, salesforce.IngestJob{Object: "Lead", Operation: salesforce.BulkUpsert, ExternalIDField: "Forcesync_Key__c"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, j := range []forcesync.BulkJobRef{
		{Connection: "default", ID: info.ID, Owner: "killed/0", Mapping: "contacts_to_leads", Object: "Lead", Created: old},
		{Connection: "default", ID: "750000000000000AAA", Owner: "killed/0", Mapping: "contacts_to_leads", Object: "Lead", Created: old},
	} {
		if err := r.store.AddBulkJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := engine.New(ctx, r.store, r.api, []forcesync.Mapping{leadByExtID()}, engine.Config{}); err != nil {
		t.Fatal(err)
	}
	got, err := b.IngestJobInfo(ctx, info.ID)
	if err != nil || got.State != salesforce.JobAborted {
		t.Fatalf("orphaned job: %+v %v", got, err)
	}
	if jobs, _ := r.store.BulkJobs(ctx, "default"); len(jobs) != 0 {
		t.Fatalf("jobs still noted: %+v", jobs)
	}
}

// TestLongBulkJobNotTakenForOrphan: a Bulk job that runs longer than the
// lease is noted again while it runs, so another engine starting on the
// same store (a replica, or a push) does not take it for a dead process's
// and abort it. Before the heartbeat, the job's note kept the time it was
// created and the second engine aborted the running job.
func TestLongBulkJobNotTakenForOrphan(t *testing.T) {
	const lease = time.Second
	r := newRig(t, engine.Config{BulkThreshold: 10, Lease: lease, Owner: "first"}, leadByExtID())
	r.emu.SetBulkPace(&emulator.BulkPace{RecordsPerSecond: 20})
	ctx := context.Background()
	var cs []forcesync.Change
	for i := range 60 {
		cs = append(cs, contact(fmt.Sprint(i), "Long", fmt.Sprintf("long%d@example.com", i), 80))
	}
	r.accept("contact", cs...)
	drained := make(chan error)
	go func() { _, err := r.Eng.Drain(ctx); drained <- err }()

	// Wait until the job has been running for more than a lease.
	var job forcesync.BulkJobRef
	var seen time.Time
	for {
		noted, err := r.store.BulkJobs(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		var jobs []forcesync.BulkJobRef // the jobs, not the intent (bulkjobs.go)
		for _, j := range noted {
			if !engine.IsBulkIntent(j.ID) {
				jobs = append(jobs, j)
			}
		}
		if len(jobs) == 1 && seen.IsZero() {
			job, seen = jobs[0], time.Now()
		}
		if !seen.IsZero() && time.Since(seen) > lease+lease/2 {
			break
		}
		if len(jobs) == 0 && !seen.IsZero() {
			t.Fatal("the job finished before it ran longer than a lease: pace it slower")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := engine.New(ctx, r.store, r.api, []forcesync.Mapping{leadByExtID()}, engine.Config{Lease: lease, Owner: "second"}); err != nil {
		t.Fatal(err)
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	got, err := r.api.Client.Bulk(salesforce.BulkConfig{}).IngestJobInfo(ctx, job.ID)
	if err != nil || got.State != salesforce.JobComplete {
		t.Fatalf("the running job was taken for an orphan: %+v %v", got, err)
	}
	if n := len(r.query("SELECT Id FROM Lead")); n != 60 {
		t.Fatalf("%d leads, want 60", n)
	}
}

// TestUnnotedBulkJobOfGoneProcessAborted: a process killed after Salesforce
// created its job but before it noted the job leaves only its intent in the
// ledger. The next engine aborts the Open job of that object created around
// the intent, and forgets the intent; a job another row names, a job of
// another object and a job created long after the intent are left alone.
func TestUnnotedBulkJobOfGoneProcessAborted(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, leadByExtID())
	ctx := context.Background()
	b := r.api.Client.Bulk(salesforce.BulkConfig{})
	create := func(obj string) string {
		info, err := b.CreateIngestJob(ctx, salesforce.IngestJob{Object: obj, Operation: salesforce.BulkInsert})
		if err != nil {
			t.Fatal(err)
		}
		return info.ID
	}
	orphan, named, contact := create("Lead"), create("Lead"), create("Contact")
	now := time.Now()
	for _, j := range []forcesync.BulkJobRef{
		{Connection: "default", ID: "intent/killed/1", Owner: "killed", Mapping: "contacts_to_leads", Object: "Lead", Created: now},
		// A live process's job: its own row names it.
		{Connection: "default", ID: named, Owner: "alive", Mapping: "contacts_to_leads", Object: "Lead", Created: now},
	} {
		if err := r.store.AddBulkJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	// A later intent of the same dead process, noted an hour on: none of
	// these jobs was created around it.
	if err := r.store.AddBulkJob(ctx, forcesync.BulkJobRef{Connection: "default", ID: "intent/killed/2", Owner: "killed",
		Mapping: "contacts_to_leads", Object: "Lead", Created: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e := r.Eng
	e.RecoverGoneJobs(ctx, func(owner string) bool { return owner == "killed" })
	for id, want := range map[string]salesforce.JobState{orphan: salesforce.JobAborted, named: salesforce.JobOpen, contact: salesforce.JobOpen} {
		got, err := b.IngestJobInfo(ctx, id)
		if err != nil || got.State != want {
			t.Errorf("job %s: %+v %v, want %s", id, got, err, want)
		}
	}
	jobs, _ := r.store.BulkJobs(ctx, "default")
	if len(jobs) != 1 || jobs[0].ID != named {
		t.Fatalf("ledger after recovery %+v, want only the live process's job", jobs)
	}
}
