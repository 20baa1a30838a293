package scim_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestSharedChangeRules: SCIM's changes pass the rules every door shares
// (ingest.Check). A User whose stored version is at the ceiling (written
// by another door) cannot take the next version: the REST ingest would
// refuse that version too. SCIM answers in its own words: 400,
// scimType invalidValue, and the stored record is left as it was.
func TestSharedChangeRules(t *testing.T) {
	r := newRig(t)
	code, u, _ := r.do("POST", "/scim/v2/Users", `{"userName":"ceiling@example.com"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, u)
	}
	id := u["id"].(string)
	ctx := context.Background()
	rec, err := r.store.SourceRecord(ctx, "idp_user", id)
	if err != nil {
		t.Fatal(err)
	}
	fields, _ := json.Marshal(rec.Fields)
	if _, err := r.store.Accept(ctx, nil, []forcesync.Change{{Source: "idp_user", Key: id, Version: forcesync.MaxVersion,
		FieldsJSON: fields}}); err != nil {
		t.Fatal(err)
	}
	code, body, _ := r.do("PUT", "/scim/v2/Users/"+id, `{"userName":"ceiling@example.com","title":"Boss"}`)
	if code != 400 || body["scimType"] != "invalidValue" || !strings.Contains(body["detail"].(string), "version") {
		t.Fatalf("PUT past the version ceiling: %d %v; want 400 invalidValue about the version", code, body)
	}
	after, err := r.store.SourceRecord(ctx, "idp_user", id)
	if err != nil || after.Version != forcesync.MaxVersion {
		t.Fatalf("stored version %d, %v; want the ceiling kept", after.Version, err)
	}
	if _, ok := after.Fields["title"]; ok {
		t.Fatalf("refused change was stored: %v", after.Fields)
	}
}
