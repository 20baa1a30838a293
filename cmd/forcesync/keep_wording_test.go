package main

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/config"
)

// keeper serves both `forcesync approve --keep` and the API's
// ?keep=true: its refusal of a configured mapping names both, not only the
// CLI flag an API caller never sent.
func TestKeepRefusalNamesBothForms(t *testing.T) {
	cfg, err := config.Parse([]byte(`
connections:
  - {name: org, auth: access_token, access_token_env: T}
sources:
  - name: contact
mappings:
  - name: leads
    source: contact
    object: Lead
    match: {external_id: Forcesync_Key__c}
    fields:
      - {target: LastName, source: last}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = keeper(nil, cfg)(context.Background(), "leads")
	if err == nil || !strings.Contains(err.Error(), "--keep") || !strings.Contains(err.Error(), "?keep=true") {
		t.Fatalf("keep of a configured mapping: %v; want a refusal naming --keep and ?keep=true", err)
	}
}
