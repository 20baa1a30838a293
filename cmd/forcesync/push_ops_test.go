package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestPushNDJSONOpsAsIngest checks push reads the documented change lines
// as REST ingest does: {"key":..,"op":"disable"} and {"key":..,"op":"delete"}
// carry no fields and are changes (not flat records without a key column),
// and a version that would freeze its key is refused naming the version.
func TestPushNDJSONOpsAsIngest(t *testing.T) {
	r := newPushRig(t)
	data := filepath.Join(r.dir, "ops.jsonl")
	content := `{"key":"o1","fields":{"last_name":"One"}}
{"key":"o1","op":"disable"}
{"key":"o2","op":"delete"}
{"key":"o3","version":9223372036854775807,"fields":{"last_name":"Frozen"}}
{"client_id":"o4","op":"signup","last_name":"Flat"}
`
	if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := r.push(context.Background(), "--file", data)
	if forcesync.ErrorCode(err) != forcesync.EInvalid { // its bad rows
		t.Fatalf("push: %v (want EInvalid for the bad rows)\n%s\n%s", err, out, errOut)
	}
	for _, line := range []string{"ops.jsonl:2:", "ops.jsonl:3:", "ops.jsonl:5:"} {
		if strings.Contains(errOut, line) {
			t.Errorf("line refused: %s", errOut)
		}
	}
	if !strings.Contains(errOut, "ops.jsonl:4: skipped row: version: 9223372036854775807 is over the ceiling") {
		t.Errorf("MaxInt64 version not refused:\n%s", errOut)
	}
	if !strings.Contains(out, "Accepted 4 rows; 1 bad row") {
		t.Errorf("summary:\n%s", out)
	}
	if got := r.leadsByKey(); got["o4"] != 1 || got["o3"] != 0 {
		t.Errorf("leads %v", got)
	}
}
