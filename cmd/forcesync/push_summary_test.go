package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
)

// TestPushSummaryPartitionsRecords checks the push summary counts each
// record once, by what it finally came to: a record first deferred
// (MATCH_PENDING, another row has its email) and then settled is not also
// counted as failed, and a create-only mapping that finds the record by
// Email and makes no call says "unchanged (no call)", not "updated".
func TestPushSummaryPartitionsRecords(t *testing.T) {
	r := newPushRig(t)
	cfg, err := os.ReadFile(r.config)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(cfg), "mappings:")
	mapping := `mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    match:
      fields: [Email]
    operations:
      create: true
      update: false
    fields:
      - target: LastName
        source: last_name
        default: Undefined
      - target: Company
        value: Broker Clients
      - target: Email
        source: email
`
	if err := os.WriteFile(r.config, []byte(string(cfg[:i])+mapping), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.Create(context.Background(), "Lead", salesforce.Record{"LastName": "Known", "Company": "X", "Email": "known@example.com"}); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(r.dir, "clients.csv")
	content := "client_id,last_name,email\n" +
		"a1,Found,known@example.com\n" + // found by Email, create-only: no call
		"a2,Twin,twin@example.com\n" + // created
		"a3,Twin,twin@example.com\n" + // waits for a2, then finds its Lead: no call
		"a4,Bad,not-an-email\n" // held
	if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", data)
	if forcesync.ErrorCode(err) != forcesync.EInvalid { // one record is held
		t.Fatalf("push: %v (want EInvalid for the held record)\n%s\n%s", err, out, errOut)
	}
	n := runCounts(t, out)
	if n[0] != 4 {
		t.Fatalf("want 4 records:\n%s", out)
	}
	if n[1] != 1 || n[2] != 0 || n[3] != 2 || n[6] != 1 {
		t.Fatalf("want created 1, updated 0, unchanged 2, held 1:\n%s", out)
	}
}

// runCounts reads the push summary's "This run" line: the total, then
// created, updated, unchanged, deleted, skipped, held and retrying. It
// fails the test unless the categories add up to the total.
func runCounts(t *testing.T, out string) []int {
	t.Helper()
	m := regexp.MustCompile(`This run: (\d+) (?:records|results over \d+ mappings \(one per record and mapping\)): created (\d+), updated (\d+), unchanged \(no call\) (\d+), deleted (\d+), skipped (\d+), held (\d+), retrying (\d+);`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary:\n%s", out)
	}
	n := make([]int, len(m)-1)
	sum := 0
	for j := range n {
		n[j], _ = strconv.Atoi(m[j+1])
		if j > 0 {
			sum += n[j]
		}
	}
	if sum != n[0] {
		t.Fatalf("the categories do not add up to %d:\n%s", n[0], out)
	}
	return n
}

// TestPushSummaryCountsPromotedOnce: a record promoted from the Lead
// mapping to the Contact mapping is counted once under each mapping. The
// Lead mapping settles it as converted; the Contact mapping's conversion
// of the Lead must not queue it there again, whichever mapping runs first
// (config order). With two mappings the line says it counts results, one
// per record and mapping, not records.
func TestPushSummaryCountsPromotedOnce(t *testing.T) {
	leads := `  - name: leads
    source: client
    object: Lead
    filter: tier != "gold"
    match:
      external_id: Forcesync_Key__c
    fields:
      - {target: LastName, source: last_name}
      - {target: Company, value: Acme}
`
	contacts := `  - name: contacts
    source: client
    object: Contact
    filter: tier == "gold"
    match:
      external_id: Client_Id__c
    fields:
      - {target: LastName, source: last_name}
`
	for _, tc := range []struct{ name, mappings string }{
		{"leads first", leads + contacts},
		{"contacts first", contacts + leads},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu, url := startEmulator(t, emulator.Config{Objects: []emulator.ObjectConfig{{Name: "Contact", Fields: []emulator.FieldConfig{
				{Name: "Client_Id__c", Type: "string", Length: 80, Unique: true, ExternalID: true}}}}})
			r := newPushRig(t)
			r.emu, r.client = emu, emuClient(t, url)
			if err := os.WriteFile(r.config, []byte(fmt.Sprintf(pushSourceHead, url)+tc.mappings), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(r.dir, "clients.csv")
			push := func(gold func(i int) bool) string {
				t.Helper()
				r.writeRows(data, "client_id,last_name,tier", 4, func(i int) string {
					if gold(i) {
						return fmt.Sprintf("k%d,Gold%d,gold", i, i)
					}
					return fmt.Sprintf("k%d,Last%d,basic", i, i)
				})
				out, errOut, err := r.push(context.Background(), "--file", data)
				if err != nil {
					t.Fatalf("push: %v\n%s\n%s", err, out, errOut)
				}
				return out
			}
			push(func(i int) bool { return i > 2 })
			// k1 and k2 turn gold: their Leads are converted, and the
			// Contacts they became carry them.
			out := push(func(i int) bool { return true })
			if n := r.count("SELECT Id FROM Contact"); n != 4 {
				t.Fatalf("%d Contacts, want 4\n%s", n, out)
			}
			if !strings.Contains(out, "Mapping leads now: synced 0, skipped 2, held 0, retrying 0, pending 0, deleted 0, converted 2.") {
				t.Fatalf("Lead mapping after the promotion:\n%s", out)
			}
			// 4 records x 2 mappings: k3 and k4 unchanged under both; k1 and
			// k2 converted under leads (no call) and updated under contacts.
			n := runCounts(t, out)
			if n[0] != 8 || n[2] != 2 || n[3] != 6 {
				t.Fatalf("want 8 results: updated 2, unchanged 6:\n%s", out)
			}
			if !strings.Contains(out, "This run: 8 results over 2 mappings (one per record and mapping):") {
				t.Fatalf("the line does not say it counts per record and mapping:\n%s", out)
			}
		})
	}
}
