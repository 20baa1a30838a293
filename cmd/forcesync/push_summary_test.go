package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
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
	m := regexp.MustCompile(`This run: (\d+) records: created (\d+), updated (\d+), unchanged \(no call\) (\d+), deleted (\d+), skipped (\d+), held (\d+), retrying (\d+);`).FindStringSubmatch(out)
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
	if n[0] != 4 || sum != 4 {
		t.Fatalf("the categories do not partition the 4 records:\n%s", out)
	}
	if n[1] != 1 || n[2] != 0 || n[3] != 2 || n[6] != 1 {
		t.Fatalf("want created 1, updated 0, unchanged 2, held 1:\n%s", out)
	}
}
