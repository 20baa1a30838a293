package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/sqlite"
)

// TestPushStreamsBulkJobsFromTheFile: a file's changed rows go straight into
// one Bulk job (five Bulk calls: create, upload, close, poll, results) and
// are recorded without the outbox; a key twice in the file ends with its
// later row; a handful of changed rows, below the Bulk threshold, go by
// Collections through the outbox instead of a Bulk job.
func TestPushStreamsBulkJobsFromTheFile(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "clients.csv")
	var b strings.Builder
	b.WriteString("client_id,last_name,email\n")
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "k%d,Last%d,k%d@example.com\n", i, i, i)
	}
	b.WriteString("k5,Twice5,k5@example.com\n") // the same key again, later in the file
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.emu.SetFinishBulkJobsAtOnce(true) // a job's first poll is final: the count is exact
	r.emu.ResetStats()
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	stats := r.emu.Stats()
	if stats["bulk"] != 5 {
		t.Fatalf("bulk calls %d, want one job's 5 (stats %v)\n%s", stats["bulk"], stats, out)
	}
	if !strings.Contains(out, "Accepted 3001 rows") || !strings.Contains(out, "synced 3000") {
		t.Fatalf("summary:\n%s", out)
	}
	got := r.leadsByKey()
	if len(got) != 3000 {
		t.Fatalf("%d leads, want 3000", len(got))
	}
	for k, n := range got {
		if n != 1 {
			t.Fatalf("lead %s present %d times", k, n)
		}
	}
	recs, err := r.client.QueryRecords(context.Background(), "SELECT LastName FROM Lead WHERE Forcesync_Key__c = 'k5'")
	if err != nil || len(recs) != 1 || recs[0]["LastName"] != "Twice5" {
		t.Fatalf("k5 = %v %v, want the file's later row", recs, err)
	}

	// 20 rows changed: too few for Bulk.
	b.Reset()
	b.WriteString("client_id,last_name,email\n")
	for i := 1; i <= 3000; i++ {
		last := fmt.Sprintf("Last%d", i)
		if i == 5 {
			last = "Twice5"
		}
		if i%150 == 0 {
			last = fmt.Sprintf("Changed%d", i)
		}
		fmt.Fprintf(&b, "k%d,%s,k%d@example.com\n", i, last, i)
	}
	if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data)
	if err != nil {
		t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
	}
	stats = r.emu.Stats()
	if stats["bulk"] != 0 || stats["collections"] != 1 || !strings.Contains(out, "updated 20") ||
		!strings.Contains(out, "2980 unchanged rows not written") {
		t.Fatalf("20 changed rows: stats %v\n%s", stats, out)
	}
	recs, err = r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c FROM Lead WHERE LastName LIKE 'Changed%'")
	if err != nil || len(recs) != 20 {
		t.Fatalf("changed leads %d %v", len(recs), err)
	}
}

// TestPushKeyAgainAfterItsJobWasRecorded: rows are compared with the store
// ahead of their turn, while an earlier job of the same push may still be
// recorded. A key sent in one job and seen again a few chunks later, after
// that job's rows were recorded, must be judged against the recorded state:
// its later row reaches Salesforce and the store, so a push of the file's
// final state (each key once, as it ends) finds every row unchanged.
func TestPushKeyAgainAfterItsJobWasRecorded(t *testing.T) {
	r := newPushRig(t)
	var file, final strings.Builder
	file.WriteString("client_id,last_name,email\n")
	final.WriteString("client_id,last_name,email\n")
	again := map[int]bool{}
	for i := 1; i <= 6000; i++ {
		fmt.Fprintf(&file, "k%d,Last%d,k%d@example.com\n", i, i, i)
		if i%500 == 250 && i > 2000 {
			// A key of the first job (rows 1-2000) again, in a later chunk.
			k := i - 2000
			again[k] = true
			fmt.Fprintf(&file, "k%d,Again%d,k%d@example.com\n", k, k, k)
		}
	}
	for i := 1; i <= 6000; i++ {
		last := fmt.Sprintf("Last%d", i)
		if again[i] {
			last = fmt.Sprintf("Again%d", i)
		}
		fmt.Fprintf(&final, "k%d,%s,k%d@example.com\n", i, last, i)
	}
	data, finalData := filepath.Join(r.dir, "clients.csv"), filepath.Join(r.dir, "final.csv")
	for p, s := range map[string]string{data: file.String(), finalData: final.String()} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.emu.SetFinishBulkJobsAtOnce(true)
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500", "--job-rows", "2000")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "synced 6000") {
		t.Fatalf("summary:\n%s", out)
	}
	recs, err := r.client.QueryRecords(context.Background(), "SELECT Forcesync_Key__c, LastName FROM Lead WHERE LastName LIKE 'Again%'")
	if err != nil || len(recs) != len(again) {
		t.Fatalf("%d leads with a later row (%v), want %d", len(recs), err, len(again))
	}
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", finalData, "--chunk", "500", "--job-rows", "2000")
	if err != nil {
		t.Fatalf("push of the final state: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 0 || st["collections"] != 0 || st["composite"] != 0 {
		t.Fatalf("push of the final state made calls %v\n%s", st, out)
	}
	if !strings.Contains(out, "6000 unchanged rows not written") {
		t.Fatalf("push of the final state:\n%s", out)
	}
}

// pushTwoConfig feeds one source to two External ID mappings the direct
// path can take: Leads and a custom object. company reaches only the Lead.
const pushTwoConfig = pushSourceHead + `  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - {target: LastName, source: last_name}
      - {target: Company, source: company}
      - {target: Email, source: email}
  - name: clients_to_accounts
    source: client
    object: Client_Account__c
    match:
      external_id: Client_Key__c
    fields:
      - {target: Holder__c, source: last_name}
      - {target: Email__c, source: email}
`

// TestPushStreamsOneJobPerMapping: a source with two mappings goes the
// direct path too, one Bulk job per mapping fed from the same read of the
// file. A row that only one mapping would send goes into that mapping's
// job, and the other records it unchanged without a call; a re-push of
// the final file finds every row unchanged.
func TestPushStreamsOneJobPerMapping(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Client_Account__c", Fields: []emulator.FieldConfig{
		{Name: "Client_Key__c", Type: "string", Length: 80, Unique: true, ExternalID: true},
		{Name: "Holder__c", Type: "string", Length: 80},
		{Name: "Email__c", Type: "email"},
	}}}})
	r := newPushRig(t)
	r.emu, r.client = emu, emuClient(t, sfURL)
	if err := os.WriteFile(r.config, []byte(fmt.Sprintf(pushTwoConfig, sfURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(r.dir, "clients.csv")
	write := func(last func(i int) string, company func(i int) string) {
		r.writeRows(data, "client_id,last_name,company,email", 6000, func(i int) string {
			return fmt.Sprintf("k%d,%s,%s,k%d@example.com", i, last(i), company(i), i)
		})
	}
	count := r.count
	last := func(i int) string { return fmt.Sprintf("Last%d", i) }
	company := func(i int) string { return "Acme" }
	write(last, company)
	emu.SetFinishBulkJobsAtOnce(true) // a job's first poll is final: the count is exact
	emu.ResetStats()
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if st := emu.Stats(); st["bulk"] != 10 || st["collections"] != 0 || st["composite"] != 0 {
		t.Fatalf("calls %v, want two jobs' 10 Bulk calls\n%s", st, out)
	}
	if !strings.Contains(out, "Accepted 6000 rows (6000 by the push's own Bulk jobs)") || !strings.Contains(out, "created 12000") ||
		strings.Count(out, "synced 6000") != 2 {
		t.Fatalf("summary:\n%s", out)
	}
	if n, m := count("SELECT Id FROM Lead"), count("SELECT Id FROM Client_Account__c"); n != 6000 || m != 6000 {
		t.Fatalf("%d Leads and %d Client_Account__c, want 6000 each", n, m)
	}

	// Rows 1-2500 change a field both mappings send: straight into both
	// jobs. Rows 4001-6000 change only the Lead's company: into the Lead's
	// job, and recorded unchanged under the other mapping.
	last = func(i int) string {
		if i <= 2500 {
			return fmt.Sprintf("New%d", i)
		}
		return fmt.Sprintf("Last%d", i)
	}
	company = func(i int) string {
		if i > 4000 {
			return "Globex"
		}
		return "Acme"
	}
	write(last, company)
	emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
	}
	if !strings.Contains(out, "Accepted 4500 rows (4500 by the push's own Bulk jobs)") || !strings.Contains(out, "1500 unchanged rows not written") ||
		!strings.Contains(out, "updated 7000, unchanged (no call) 5000") || strings.Count(out, "synced 6000") != 2 {
		t.Fatalf("second push summary:\n%s", out)
	}
	if st := emu.Stats(); st["bulk"] != 10 || st["collections"] != 0 {
		t.Fatalf("second push calls %v: want a job per mapping\n%s", st, out)
	}
	if n := count("SELECT Id FROM Lead WHERE LastName LIKE 'New%'"); n != 2500 {
		t.Fatalf("%d Leads renamed, want 2500", n)
	}
	if n := count("SELECT Id FROM Client_Account__c WHERE Holder__c LIKE 'New%'"); n != 2500 {
		t.Fatalf("%d Client_Account__c renamed, want 2500", n)
	}
	if n := count("SELECT Id FROM Lead WHERE Company = 'Globex'"); n != 2000 {
		t.Fatalf("%d Leads moved to Globex, want 2000", n)
	}

	emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("third push: %v\n%s\n%s", err, out, errOut)
	}
	if st := emu.Stats(); st["bulk"] != 0 || st["collections"] != 0 || st["composite"] != 0 || !strings.Contains(out, "6000 unchanged rows not written") {
		t.Fatalf("third push of the same file: calls %v\n%s", st, out)
	}
}

// TestPushFilteredMappingSkipsInTheJobSet: rows out of a mapping's scope
// (its filter) and never bound under it are recorded skipped with the
// job's rows instead of going through the outbox; a row that enters the
// scope later is created, one that leaves it after being pushed goes
// through the engine (the mapping's rules for records leaving scope).
func TestPushFilteredMappingSkipsInTheJobSet(t *testing.T) {
	r := newPushRig(t)
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), "    object: Lead\n", "    object: Lead\n    filter: tier == \"gold\"\n", 1))
	if err := os.WriteFile(r.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(r.dir, "clients.csv")
	write := func(tier func(i int) string) {
		r.writeRows(data, "client_id,last_name,email,tier", 6000, func(i int) string {
			return fmt.Sprintf("k%d,Last%d,k%d@example.com,%s", i, i, i, tier(i))
		})
	}
	r.emu.SetFinishBulkJobsAtOnce(true)
	write(func(i int) string {
		if i%2 == 0 {
			return "gold"
		}
		return "basic"
	})
	r.emu.ResetStats()
	out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 5 || st["collections"] != 0 {
		t.Fatalf("calls %v, want one Bulk job of the 3000 gold rows\n%s", st, out)
	}
	if !strings.Contains(out, "Accepted 6000 rows (6000 by the push's own Bulk jobs)") ||
		!strings.Contains(out, "created 3000") || !strings.Contains(out, "skipped 3000") ||
		!strings.Contains(out, "synced 3000, skipped 3000, held 0, retrying 0, pending 0") {
		t.Fatalf("summary:\n%s", out)
	}
	if n := len(r.leadsByKey()); n != 3000 {
		t.Fatalf("%d Leads, want the 3000 gold rows", n)
	}
	// The same file again: every row unchanged, skipped ones too.
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 0 || st["collections"] != 0 || !strings.Contains(out, "6000 unchanged rows not written") {
		t.Fatalf("second push: calls %v\n%s", st, out)
	}
	// Every row turns gold but the first 1000 even rows, which turn basic:
	// 3000 enter the scope (one Bulk job), 1000 leave it (the engine, by
	// the mapping's rule for records leaving scope: deprovisioned, and a
	// Lead is left as it is).
	write(func(i int) string {
		if i%2 == 0 && i <= 2000 {
			return "basic"
		}
		return "gold"
	})
	r.emu.ResetStats()
	out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
	if err != nil {
		t.Fatalf("third push: %v\n%s\n%s", err, out, errOut)
	}
	if st := r.emu.Stats(); st["bulk"] != 5 || st["collections"] != 0 {
		t.Fatalf("third push: calls %v, want one Bulk job of the 3000 new gold rows\n%s", st, out)
	}
	if !strings.Contains(out, "created 3000") || !strings.Contains(out, "synced 5000, skipped 0, held 0, retrying 0, pending 0, deleted 0, deprovisioned 1000.") {
		t.Fatalf("third push summary:\n%s", out)
	}
	if n := len(r.leadsByKey()); n != 6000 {
		t.Fatalf("%d Leads, want 6000 (those that left the scope stay)", n)
	}
}

// pushLeadContactConfig splits a source between a Lead mapping and a
// Contact mapping by tier (LEADFILTER is replaced per test).
const pushLeadContactConfig = pushSourceHead + `  - name: leads
    source: client
    object: Lead
    LEADFILTER
    match:
      external_id: Forcesync_Key__c
    fields:
      - {target: LastName, source: last_name}
      - {target: Company, value: Acme}
  - name: contacts
    source: client
    object: Contact
    filter: tier == "gold"
    match:
      external_id: Client_Id__c
    fields:
      - {target: LastName, source: last_name}
engine:
  bulk_threshold: 500
`

// TestPushLeadsAndContactsDirect: a source split between a Lead mapping
// and a Contact mapping goes the direct path, a job per mapping, each
// skipping the other's rows. A record moving to the Contact mapping's
// scope later is promoted by the engine (its Lead converted, or the
// conversion a person made followed), never given a twin Contact.
func TestPushLeadsAndContactsDirect(t *testing.T) {
	for _, tc := range []struct {
		name, leadFilter string
	}{
		{"split", `filter: tier != "gold"`}, // each record in one scope
		{"both", ""},                        // gold records in both
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The Contact's External ID is a field of its own: a Lead's
			// conversion does not carry it over, so a Contact created for a
			// converted Lead's record would be a twin.
			emu, url := startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Contact", Fields: []emulator.FieldConfig{
				{Name: "Client_Id__c", Type: "string", Length: 80, Unique: true, ExternalID: true}}}}})
			r := newPushRig(t)
			r.emu, r.client = emu, emuClient(t, url)
			text := strings.Replace(fmt.Sprintf(pushLeadContactConfig, url), "LEADFILTER", tc.leadFilter, 1)
			if err := os.WriteFile(r.config, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(r.dir, "clients.csv")
			write := func(gold func(i int) bool, last func(i int) string) {
				r.writeRows(data, "client_id,last_name,tier", 6000, func(i int) string {
					tier := "basic"
					if gold(i) {
						tier = "gold"
					}
					return fmt.Sprintf("k%d,%s,%s", i, last(i), tier)
				})
			}
			count := r.count
			r.emu.SetFinishBulkJobsAtOnce(true)
			plain := func(i int) string { return fmt.Sprintf("Last%d", i) }
			write(func(i int) bool { return i%2 == 0 }, plain)
			r.emu.ResetStats()
			out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "500")
			if err != nil {
				t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
			}
			leads := 3000
			if tc.leadFilter == "" {
				leads = 6000
			}
			if st := r.emu.Stats(); st["bulk"] != 10 || st["collections"] != 0 || st["composite"] != 0 || st["query"] != 0 {
				t.Fatalf("calls %v, want a Bulk job per mapping\n%s", st, out)
			}
			if n, m := count("SELECT Id FROM Lead"), count("SELECT Id FROM Contact"); n != leads || m != 3000 {
				t.Fatalf("%d Leads and %d Contacts, want %d and 3000\n%s", n, m, leads, out)
			}
			// A person converts Lead k1 in Salesforce; then the odd rows up to
			// k4399 turn gold with a new name (2,200 rows, a Bulk job's worth
			// for the Contact mapping): Leads bound, so promoted by the engine.
			recs, err := r.client.QueryRecords(context.Background(), "SELECT Id FROM Lead WHERE Forcesync_Key__c = 'k1'")
			if err != nil || len(recs) != 1 {
				t.Fatalf("Lead k1: %v %v", recs, err)
			}
			if res, err := r.client.ConvertLeads(context.Background(), []salesforce.LeadConvert{{LeadID: recs[0].ID()}}); err != nil || res[0].Err != nil {
				t.Fatalf("convert k1: %+v %v", res, err)
			}
			promoted := func(i int) bool { return i%2 == 1 && i < 4400 }
			write(func(i int) bool { return i%2 == 0 || promoted(i) }, func(i int) string {
				if promoted(i) {
					return fmt.Sprintf("Gold%d", i)
				}
				return plain(i)
			})
			r.emu.ResetStats()
			out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
			if err != nil {
				t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
			}
			// Split, the 2,200 promotions stamp the Contact mapping's External
			// ID on the converted Contacts 200 to a Collections update (the
			// only Collections calls of this push: the upserts go through
			// Bulk), not one call each.
			if st := r.emu.Stats(); tc.leadFilter != "" && st["collections"] != 11 {
				t.Fatalf("second push: %d Collections calls for 2200 stamps, want 11 (200 records a call); calls %v\n%s", st["collections"], st, out)
			}
			// 3000 + 2200 Contacts: the converted Lead's Contact carries k1,
			// no twin of it was created.
			if n := count("SELECT Id FROM Contact"); n != 5200 {
				t.Fatalf("%d Contacts, want 5200 (no twin)\n%s", n, out)
			}
			recs, err = r.client.QueryRecords(context.Background(), "SELECT Id, LastName FROM Contact WHERE Client_Id__c = 'k1'")
			if err != nil || len(recs) != 1 || recs[0]["LastName"] != "Gold1" {
				t.Fatalf("Contact k1: %v %v\n%s", recs, err, out)
			}
			if !strings.Contains(out, "Mapping contacts now: synced 5200, skipped 800") {
				t.Fatalf("second push summary:\n%s", out)
			}
			// Each record once under each mapping, promoted or not.
			if n := runCounts(t, out); n[0] != 12000 {
				t.Fatalf("second push: %d results, want 6000 records x 2 mappings\n%s", n[0], out)
			}
			// A person converts Lead k4401, still in the Lead scope only; the
			// 800 remaining Leads get a new name, in the push's own Lead job.
			// Salesforce refuses k4401's update (CANNOT_UPDATE_CONVERTED_LEAD);
			// the engine takes it and holds it naming the Contact it became.
			recs, err = r.client.QueryRecords(context.Background(), "SELECT Id FROM Lead WHERE Forcesync_Key__c = 'k4401'")
			if err != nil || len(recs) != 1 {
				t.Fatalf("Lead k4401: %v %v", recs, err)
			}
			if res, err := r.client.ConvertLeads(context.Background(), []salesforce.LeadConvert{{LeadID: recs[0].ID()}}); err != nil || res[0].Err != nil {
				t.Fatalf("convert k4401: %+v %v", res, err)
			}
			renamed := func(i int) bool { return i%2 == 1 && i >= 4400 }
			write(func(i int) bool { return i%2 == 0 || promoted(i) }, func(i int) string {
				switch {
				case promoted(i):
					return fmt.Sprintf("Gold%d", i)
				case renamed(i):
					return fmt.Sprintf("Renamed%d", i)
				}
				return plain(i)
			})
			out, errOut, err = r.push(context.Background(), "--file", data, "--chunk", "500")
			if forcesync.ErrorCode(err) != forcesync.EInvalid { // the converted Lead is held
				t.Fatalf("third push: %v (want the held record's EInvalid)\n%s\n%s", err, out, errOut)
			}
			if !strings.Contains(out, "(800 by the push's own Bulk jobs)") {
				t.Fatalf("third push summary:\n%s", out)
			}
			failures, err := os.ReadFile(data + ".failures.csv")
			if err != nil || !strings.Contains(string(failures), "k4401") || !strings.Contains(string(failures), "LEAD_CONVERTED") {
				t.Fatalf("failures %q %v, want k4401 held with LEAD_CONVERTED\n%s", failures, err, out)
			}
		})
	}
}

// count returns how many records a query of the emulator finds.
func (r *pushRig) count(soql string) int {
	r.t.Helper()
	recs, err := r.client.QueryRecords(context.Background(), soql)
	if err != nil {
		r.t.Fatal(err)
	}
	return len(recs)
}

// writeRows writes a CSV file of header and rows 1..n, row i as line(i).
func (r *pushRig) writeRows(path, header string, n int, line func(i int) string) {
	r.t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 1; i <= n; i++ {
		b.WriteString(line(i) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// TestPushKeyRepeatedInOneJobSet: a key the file repeats while its first
// row waits in the open job set (a small file whose set never starts a
// job, and a large one whose Bulk job takes the first row) ends with the
// file's last row, in Salesforce and in the store: a push of the file's
// final state finds every row unchanged.
func TestPushKeyRepeatedInOneJobSet(t *testing.T) {
	for _, n := range []int{2, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := newPushRig(t)
			r.emu.SetFinishBulkJobsAtOnce(true)
			data, finalData := filepath.Join(r.dir, "clients.csv"), filepath.Join(r.dir, "final.csv")
			r.writeRows(data, "client_id,last_name,email", n+1, func(i int) string {
				if i == n+1 { // k1 again, its first row still in the set
					return "k1,Again,again@example.com"
				}
				return fmt.Sprintf("k%d,Last%d,k%d@example.com", i, i, i)
			})
			r.writeRows(finalData, "client_id,last_name,email", n, func(i int) string {
				if i == 1 {
					return "k1,Again,again@example.com"
				}
				return fmt.Sprintf("k%d,Last%d,k%d@example.com", i, i, i)
			})
			out, errOut, err := r.push(context.Background(), "--file", data, "--chunk", "5000")
			if err != nil {
				t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
			}
			recs, err := r.client.QueryRecords(context.Background(), "SELECT LastName, Email FROM Lead WHERE Forcesync_Key__c = 'k1'")
			if err != nil || len(recs) != 1 || recs[0]["LastName"] != "Again" || recs[0]["Email"] != "again@example.com" {
				t.Fatalf("k1 in Salesforce: %v %v (want the file's last row)\n%s", recs, err, out)
			}
			r.emu.ResetStats()
			out, errOut, err = r.push(context.Background(), "--file", finalData)
			if err != nil {
				t.Fatalf("push of the final state: %v\n%s\n%s", err, out, errOut)
			}
			if want := fmt.Sprintf("%d unchanged rows not written", n); !strings.Contains(out, want) {
				t.Fatalf("push of the final state (want %q):\n%s", want, out)
			}
		})
	}
}

// TestPushPromotionWaitsForALeadInFlight: a row entering the Contact
// mapping's scope while a serve of the same store has the record in
// flight under the Lead mapping (claimed, its Lead in Salesforce already,
// not bound yet) is left to the engine (the Lead lane sees it queued), and
// the engine waits for the Lead mapping's batch (LEAD_PENDING), then
// converts the Lead: no twin Contact beside it.
func TestPushPromotionWaitsForALeadInFlight(t *testing.T) {
	ctx := context.Background()
	emu, url := startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Contact", Fields: []emulator.FieldConfig{
		{Name: "Client_Id__c", Type: "string", Length: 80, Unique: true, ExternalID: true}}}}})
	r := newPushRig(t)
	r.emu, r.client = emu, emuClient(t, url)
	text := strings.Replace(fmt.Sprintf(pushLeadContactConfig, url), "LEADFILTER", `filter: tier != "gold"`, 1)
	if err := os.WriteFile(r.config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r.emu.SetFinishBulkJobsAtOnce(true)
	// The other process: k1 accepted as a Lead, skipped by the Contact
	// mapping, claimed by the Lead mapping, its Lead created in Salesforce,
	// the batch not completed yet.
	st, err := sqlite.Open(ctx, filepath.Join(r.dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Accept(ctx, []string{"leads", "contacts"}, []forcesync.Change{{Source: "client", Key: "k1", Op: forcesync.OpUpsert,
		Fields: map[string]any{"client_id": "k1", "last_name": "Last1", "tier": "basic"}}}); err != nil {
		t.Fatal(err)
	}
	const other = "serve-elsewhere"
	skip, err := st.Claim(ctx, forcesync.ClaimRequest{Mapping: "contacts", Owner: other, Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(skip) != 1 {
		t.Fatalf("claim: %d items, %v", len(skip), err)
	}
	if err := st.Complete(ctx, other, []forcesync.Outcome{{Item: skip[0], State: forcesync.StateSkipped}}, nil); err != nil {
		t.Fatal(err)
	}
	items, err := st.Claim(ctx, forcesync.ClaimRequest{Mapping: "leads", Owner: other, Lease: time.Minute, Limit: 10, Now: time.Now()})
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	lead, err := r.client.Create(ctx, "Lead", salesforce.Record{"LastName": "Last1", "Company": "Acme", "Forcesync_Key__c": "k1"})
	if err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(r.dir, "clients.csv")
	r.writeRows(data, "client_id,last_name,tier", 600, func(i int) string { return fmt.Sprintf("k%d,Last%d,gold", i, i) })
	type result struct {
		out, errOut string
		err         error
	}
	done := make(chan result, 1)
	go func() {
		out, errOut, err := r.push(ctx, "--file", data, "--chunk", "500")
		done <- result{out, errOut, err}
	}()
	// Once the engine puts k1 off for the Lead in flight, the other
	// process's batch completes, binding the Lead.
	var res result
	waiting := false
	for deadline := time.Now().Add(time.Minute); !waiting; {
		select {
		case res = <-done:
			t.Fatalf("push ended without waiting for the Lead in flight: %v\n%s\n%s", res.err, res.out, res.errOut)
		default:
		}
		sts, err := st.Statuses(ctx, "client", "k1")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			waiting = waiting || s.Mapping == "contacts" && s.State == forcesync.StateRetrying && s.Error != nil && s.Error.Code == "LEAD_PENDING"
		}
		if time.Now().After(deadline) {
			t.Fatalf("k1 never waited for its Lead: %+v", sts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := st.Complete(ctx, other, []forcesync.Outcome{{Item: items[0], State: forcesync.StateSynced, SalesforceID: lead, Fingerprint: "fp"}}, nil); err != nil {
		t.Fatal(err)
	}
	res = <-done
	if res.err != nil {
		t.Fatalf("push: %v\n%s\n%s", res.err, res.out, res.errOut)
	}
	if !strings.Contains(res.out, "(599 by the push's own Bulk jobs)") {
		t.Fatalf("summary, want k1 left to the engine:\n%s", res.out)
	}
	recs, err := r.client.QueryRecords(ctx, "SELECT IsConverted, ConvertedContactId FROM Lead WHERE Id = '"+lead+"'")
	if err != nil || len(recs) != 1 || recs[0]["IsConverted"] != true {
		t.Fatalf("Lead k1: %v %v, want converted", recs, err)
	}
	if n := r.count("SELECT Id FROM Contact"); n != 600 {
		t.Fatalf("%d Contacts, want 600 (k1's the converted Lead's, no twin)\n%s", n, res.out)
	}
	got, err := r.client.QueryRecords(ctx, "SELECT Id FROM Contact WHERE Client_Id__c = 'k1'")
	if err != nil || len(got) != 1 || got[0].ID() != recs[0]["ConvertedContactId"] {
		t.Fatalf("Contact k1: %v %v, want %v", got, err, recs[0]["ConvertedContactId"])
	}
}

// TestPushKeepsTheOrgsBulkPace: the time per record the org took for a
// Bulk job is kept with the connection's pin, and the next push starts
// from it (its first poll waits for it) instead of learning it again.
func TestPushKeepsTheOrgsBulkPace(t *testing.T) {
	ctx := context.Background()
	r := newPushRig(t)
	r.emu.SetFinishBulkJobsAtOnce(true)
	data := filepath.Join(r.dir, "clients.csv")
	write := func(last string) {
		var b strings.Builder
		b.WriteString("client_id,last_name,email\n")
		for i := 1; i <= 3000; i++ {
			fmt.Fprintf(&b, "k%d,%s%d,k%d@example.com\n", i, last, i, i)
		}
		if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pace := func() (*sqlite.Store, time.Duration) {
		st, err := sqlite.Open(ctx, filepath.Join(r.dir, "fs.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pin, err := st.OrgPin(ctx, "org")
		if err != nil || pin == nil {
			st.Close()
			t.Fatalf("pin %+v, %v", pin, err)
		}
		return st, pin.BulkPace
	}
	write("Last")
	if out, errOut, err := r.push(ctx, "--file", data); err != nil {
		t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
	}
	st, first := pace()
	if first <= 0 {
		st.Close()
		t.Fatalf("pace after a Bulk job: %v, want one learned", first)
	}
	// Say the org took 0.5ms a record. The next push's first poll waits
	// for most of that, and what it learns is the mean of the two: far
	// above what the emulator, finishing jobs at once, shows by itself.
	const kept = 500 * time.Microsecond
	if err := st.SaveBulkPace(ctx, "org", kept); err != nil {
		t.Fatal(err)
	}
	st.Close()
	write("Again")
	if out, errOut, err := r.push(ctx, "--file", data); err != nil || !strings.Contains(out, "updated 3000") {
		t.Fatalf("second push: %v\n%s\n%s", err, out, errOut)
	}
	st, second := pace()
	st.Close()
	if second < kept/2 || second > kept {
		t.Fatalf("pace after the second push: %v; want the kept %v weighed in (between %v and %v)", second, kept, kept/2, kept)
	}
}
