package storetest

import (
	"fmt"
	"testing"

	"github.com/forcesync/forcesync"
)

// testRecordPushed checks PushRecorder: a file push's own Bulk job answers
// become records, bindings and statuses in one write; keys with queued
// work are left to the engine (binding aside); older versions never win.
func testRecordPushed(t *testing.T, s forcesync.Store, clk *Clock) {
	pr, ok := forcesync.StoreAs[forcesync.PushRecorder](s)
	if !ok {
		t.Skip("store does not implement PushRecorder")
	}
	// c has work queued before the job's answers are recorded (a later row
	// of the file, or another door).
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "c", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "c2@x.com"}})
	run := &forcesync.Run{Mapping: "m1", API: "bulk", Started: clk.Now(), Finished: clk.Now(), Records: 3, Created: 2, Failed: 1, APICalls: 5}
	err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "a", Version: 1, Fields: `{"email":"a@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-a"},
		{Key: "b", Version: 1, Fields: `{"email":"bad"}`, State: forcesync.StateHeld, Fingerprint: "fp-b",
			Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "bad email", Fields: []string{"Email"}}},
		{Key: "c", Version: 1, Fields: `{"email":"c1@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000003AAA", Fingerprint: "fp-c"},
		{Key: "s", Version: 1, Fields: `{"email":"s@x.com","score":3}`, State: forcesync.StateSkipped},
	}, run)
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 {
		t.Fatal("run has no id")
	}
	runs, err := s.Runs(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || runs[0].Created != 2 || runs[0].Failed != 1 || runs[0].APICalls != 5 {
		t.Fatalf("runs %+v %v", runs, err)
	}
	rec, err := s.SourceRecord(ctx, "contact", "a")
	if err != nil || rec == nil || rec.Version != 1 || rec.Fields["email"] != "a@x.com" {
		t.Fatalf("record a %+v %v", rec, err)
	}
	if b, err := s.Binding(ctx, "m1", "a"); err != nil || b == nil || b.SalesforceID != "00Q000000000001AAA" || b.Fingerprint != "fp-a" {
		t.Fatalf("binding a %+v %v", b, err)
	}
	if st := statusOf(t, s, "a", "m1"); st.State != forcesync.StateSynced || st.SalesforceID != "00Q000000000001AAA" || st.Version != 1 || st.Error != nil {
		t.Fatalf("status a %+v", st)
	}
	// b: held with Salesforce's error, no binding; the same payload stays
	// held without a call when the engine sees it (held print).
	if b, err := s.Binding(ctx, "m1", "b"); err != nil || b != nil {
		t.Fatalf("binding b %+v %v", b, err)
	}
	if st := statusOf(t, s, "b", "m1"); st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != "INVALID_EMAIL_ADDRESS" ||
		len(st.Error.Fields) != 1 || st.Error.Fields[0] != "Email" {
		t.Fatalf("status b %+v", st)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "b"); err != nil || rec == nil || rec.Fields["email"] != "bad" {
		t.Fatalf("record b %+v %v", rec, err)
	}
	// u, pushed, then again changed in a field the mapping does not send:
	// its record and status move on, its binding is left as it is.
	for _, r := range []forcesync.PushedRecord{
		{Key: "u", Version: 1, Fields: `{"email":"u@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000009AAA", Fingerprint: "fp-u"},
		{Key: "u", Version: 2, Fields: `{"email":"u@x.com","note":"n"}`, State: forcesync.StateSynced, SalesforceID: "00Q00000000000XAAA",
			Fingerprint: "fp-other", Unchanged: true},
	} {
		if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := s.Binding(ctx, "m1", "u"); err != nil || b == nil || b.SalesforceID != "00Q000000000009AAA" || b.Fingerprint != "fp-u" {
		t.Fatalf("binding u after an unchanged row %+v %v", b, err)
	}
	if st := statusOf(t, s, "u", "m1"); st.State != forcesync.StateSynced || st.Version != 2 {
		t.Fatalf("status u after an unchanged row %+v", st)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "u"); err != nil || rec == nil || rec.Version != 2 || rec.Fields["note"] != "n" {
		t.Fatalf("record u after an unchanged row %+v %v", rec, err)
	}
	// b's refusal is an attempt in its history, with the job's run; a's
	// sync adds none (its status says it).
	if hs, ok := forcesync.StoreAs[forcesync.HistoryStore](s); ok {
		h, err := hs.RecordHistory(ctx, "m1", "b", 0)
		if err != nil || len(h) != 1 || h[0].State != forcesync.StateHeld || h[0].Error == nil || h[0].Error.Code != "INVALID_EMAIL_ADDRESS" ||
			len(h[0].Error.Fields) != 1 || h[0].RunID != run.ID || h[0].Fingerprint != "fp-b" || h[0].Version != 1 || h[0].Op != forcesync.OpUpsert {
			t.Fatalf("history of b %+v %v", h, err)
		}
		if h, err := hs.RecordHistory(ctx, "m1", "a", 0); err != nil || len(h) != 0 {
			t.Fatalf("history of a %+v %v", h, err)
		}
	}
	// s: out of the mapping's scope, skipped without a call: its record
	// and status, no binding.
	if st := statusOf(t, s, "s", "m1"); st.State != forcesync.StateSkipped || st.Error != nil || st.SalesforceID != "" || st.Version != 1 {
		t.Fatalf("status s %+v", st)
	}
	if b, err := s.Binding(ctx, "m1", "s"); err != nil || b != nil {
		t.Fatalf("binding s %+v %v", b, err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "s"); err != nil || rec == nil || rec.Fields["email"] != "s@x.com" {
		t.Fatalf("record s %+v %v", rec, err)
	}
	// c: the queued change keeps its record and pending status; the
	// binding Salesforce gave is kept; the outbox row is still there.
	rec, err = s.SourceRecord(ctx, "contact", "c")
	if err != nil || rec == nil || rec.Fields["email"] != "c2@x.com" {
		t.Fatalf("record c %+v %v", rec, err)
	}
	if st := statusOf(t, s, "c", "m1"); st.State != forcesync.StatePending {
		t.Fatalf("status c %+v", st)
	}
	if b, err := s.Binding(ctx, "m1", "c"); err != nil || b == nil || b.SalesforceID != "00Q000000000003AAA" {
		t.Fatalf("binding c %+v %v", b, err)
	}
	if n, err := s.Backlog(ctx, "m1"); err != nil || n != 1 {
		t.Fatalf("backlog %d %v, want c's", n, err)
	}
	items := claim(t, s, clk, "m1", "w", 10)
	if len(items) != 1 || items[0].Key != "c" || items[0].Binding == nil || items[0].Fields["email"] != "c2@x.com" {
		t.Fatalf("claim after the job %+v", items)
	}

	// A newer push of a updates it; an older answer recorded late loses.
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "a", Version: 2, Fields: `{"email":"a2@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-a2"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "a", Version: 1, Fields: `{"email":"a@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000001AAA", Fingerprint: "fp-a"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "a"); err != nil || rec.Version != 2 || rec.Fields["email"] != "a2@x.com" {
		t.Fatalf("record a after a late older answer %+v %v", rec, err)
	}
	if st := statusOf(t, s, "a", "m1"); st.Version != 2 {
		t.Fatalf("status a version %d, want 2", st.Version)
	}
	// b pushed again and accepted: synced, error cleared, bound.
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "b", Version: 2, Fields: `{"email":"b@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000002AAA", Fingerprint: "fp-b2"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, s, "b", "m1"); st.State != forcesync.StateSynced || st.Error != nil || st.SalesforceID != "00Q000000000002AAA" {
		t.Fatalf("status b after its fix %+v", st)
	}
	if c, err := s.Counts(ctx, "m1"); err != nil || c[forcesync.StateSynced] != 3 || c[forcesync.StatePending] != 1 {
		t.Fatalf("counts %v %v", c, err)
	}
	// One job with runs of each state: a refused (held under its
	// Salesforce Id and binding), b synced, d new and refused.
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "a", Version: 3, Fields: `{"email":"bad"}`, State: forcesync.StateHeld, Fingerprint: "fp-a3",
			Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "bad email"}},
		{Key: "b", Version: 3, Fields: `{"email":"b3@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000002AAA", Fingerprint: "fp-b3"},
		{Key: "d", Version: 1, Fields: `{"email":"bad"}`, State: forcesync.StateHeld, Fingerprint: "fp-d",
			Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "bad email d"}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, s, "a", "m1"); st.State != forcesync.StateHeld || st.SalesforceID != "00Q000000000001AAA" ||
		st.Error == nil || st.Error.Message != "bad email" || st.Version != 3 {
		t.Fatalf("status a after its refusal %+v", st)
	}
	if st := statusOf(t, s, "d", "m1"); st.State != forcesync.StateHeld || st.SalesforceID != "" || st.Error == nil || st.Error.Message != "bad email d" {
		t.Fatalf("status d %+v", st)
	}
	if hs, ok := forcesync.StoreAs[forcesync.HistoryStore](s); ok {
		// d refused twice: two attempts, the newest first; no run given.
		if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{{Key: "d", Version: 2, Fields: `{"email":"worse"}`,
			State: forcesync.StateHeld, Fingerprint: "fp-d2", Error: &forcesync.RecordError{Code: "INVALID_EMAIL_ADDRESS", Message: "worse"}}}, nil); err != nil {
			t.Fatal(err)
		}
		h, err := hs.RecordHistory(ctx, "m1", "d", 0)
		if err != nil || len(h) != 2 || h[0].Fingerprint != "fp-d2" || h[0].Version != 2 || h[1].Fingerprint != "fp-d" || h[0].RunID != 0 {
			t.Fatalf("history of d %+v %v", h, err)
		}
	}
	if b, err := s.Binding(ctx, "m1", "b"); err != nil || b == nil || b.Fingerprint != "fp-b3" {
		t.Fatalf("binding b %+v %v", b, err)
	}
	// (The binding is the last synced answer's: the late one's above.)
	if b, err := s.Binding(ctx, "m1", "a"); err != nil || b == nil || b.Fingerprint != "fp-a" || b.SalesforceID != "00Q000000000001AAA" {
		t.Fatalf("binding a after its refusal %+v %v", b, err)
	}
}

// statusOf returns the status of key under mapping (source contact).
func statusOf(t *testing.T, s forcesync.Store, key, mapping string) forcesync.RecordStatus {
	t.Helper()
	sts, err := s.Statuses(ctx, "contact", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Mapping == mapping {
			return st
		}
	}
	t.Fatalf("no status of %s under %s: %+v", key, mapping, sts)
	return forcesync.RecordStatus{}
}

// testStageRecords checks the staging half of PushRecorder: records
// written before Salesforce answers (same rules as RecordPushed's), then
// RecordPushed given the rows marked Staged writes bindings and statuses
// and leaves the staged records as they are.
func testStageRecords(t *testing.T, s forcesync.Store, clk *Clock) {
	pr, ok := forcesync.StoreAs[forcesync.PushRecorder](s)
	if !ok {
		t.Skip("store does not implement PushRecorder")
	}
	// q has work queued (another door): staging leaves its record alone.
	accept(t, s, []string{"m1"}, forcesync.Change{Key: "q", Op: forcesync.OpUpsert, Fields: map[string]any{"email": "q-newer@x.com"}})
	// o holds a newer version than the job's row.
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "o", Version: 5, Fields: `{"email":"o5@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000005AAA", Fingerprint: "fp-o5"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	job := []forcesync.PushedRecord{
		{Key: "n", Version: 1, Fields: `{"email":"n@x.com"}`},
		{Key: "q", Version: 1, Fields: `{"email":"q-file@x.com"}`},
		{Key: "o", Version: 3, Fields: `{"email":"o3@x.com"}`},
	}
	if err := pr.StageRecords(ctx, "contact", "m1", job); err != nil {
		t.Fatal(err)
	}
	// Staged: n's record is there, with no status or binding yet.
	if rec, err := s.SourceRecord(ctx, "contact", "n"); err != nil || rec == nil || rec.Version != 1 || rec.Fields["email"] != "n@x.com" {
		t.Fatalf("staged record n %+v %v", rec, err)
	}
	if sts, err := s.Statuses(ctx, "contact", "n"); err != nil || len(sts) != 0 {
		t.Fatalf("statuses of n before the answers %+v %v", sts, err)
	}
	if b, err := s.Binding(ctx, "m1", "n"); err != nil || b != nil {
		t.Fatalf("binding of n before the answers %+v %v", b, err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "q"); err != nil || rec.Fields["email"] != "q-newer@x.com" {
		t.Fatalf("record q with queued work %+v %v", rec, err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "o"); err != nil || rec.Version != 5 || rec.Fields["email"] != "o5@x.com" {
		t.Fatalf("record o, newer in the store %+v %v", rec, err)
	}

	// The answers, the rows marked Staged: RecordPushed writes no record
	// (the Fields it is given here differ, and must not land).
	for i := range job {
		job[i].Staged, job[i].State, job[i].Fields = true, forcesync.StateSynced, `{"email":"not-written@x.com"}`
		job[i].SalesforceID, job[i].Fingerprint = fmt.Sprintf("00Q00000000001%dAAA", i), "fp-"+job[i].Key
	}
	if err := pr.RecordPushed(ctx, "contact", "m1", job, nil); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "n"); err != nil || rec.Version != 1 || rec.Fields["email"] != "n@x.com" {
		t.Fatalf("record n after its answer %+v %v", rec, err)
	}
	if st := statusOf(t, s, "n", "m1"); st.State != forcesync.StateSynced || st.SalesforceID != "00Q000000000010AAA" || st.Version != 1 {
		t.Fatalf("status n %+v", st)
	}
	if b, err := s.Binding(ctx, "m1", "n"); err != nil || b == nil || b.Fingerprint != "fp-n" {
		t.Fatalf("binding n %+v %v", b, err)
	}
	if st := statusOf(t, s, "q", "m1"); st.State != forcesync.StatePending {
		t.Fatalf("status q, work queued %+v", st)
	}
	// A row not staged in the same call still has its record written.
	if err := pr.RecordPushed(ctx, "contact", "m1", []forcesync.PushedRecord{
		{Key: "n", Version: 2, Fields: `{"email":"n2@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000010AAA", Fingerprint: "fp-n2"},
		{Key: "u", Version: 1, Fields: `{"email":"u@x.com"}`, State: forcesync.StateSynced, SalesforceID: "00Q000000000020AAA", Fingerprint: "fp-u", Staged: true},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.SourceRecord(ctx, "contact", "n"); err != nil || rec.Version != 2 || rec.Fields["email"] != "n2@x.com" {
		t.Fatalf("record n, not staged %+v %v", rec, err)
	}
	if rec, _ := s.SourceRecord(ctx, "contact", "u"); rec != nil {
		t.Fatalf("record u, marked staged but never staged: %+v", rec)
	}
}
