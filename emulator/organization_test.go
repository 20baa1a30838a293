package emulator

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 14 item 7: the Organization object.
func TestOrganizationObject(t *testing.T) {
	v := newAPIEnv(t, Config{OrgName: "Acme Sandbox", Sandbox: true})
	org := v.e.OrgID()
	var page struct {
		TotalSize int              `json:"totalSize"`
		Records   []map[string]any `json:"records"`
	}
	if st := v.doJSON("GET", "query?q=SELECT+Id,+Name,+IsSandbox,+InstanceName,+OrganizationType+FROM+Organization", nil, &page); st != 200 || page.TotalSize != 1 {
		t.Fatalf("query: %d %+v", st, page)
	}
	r := page.Records[0]
	if r["Id"] != org || !strings.HasPrefix(org, "00D") || r["Name"] != "Acme Sandbox" || r["IsSandbox"] != true ||
		!strings.HasPrefix(r["InstanceName"].(string), "CS") || r["OrganizationType"] == nil {
		t.Fatalf("organization row %v", r)
	}
	var rec map[string]any
	if st := v.doJSON("GET", "sobjects/Organization/"+org, nil, &rec); st != 200 || rec["Id"] != org || rec["TimeZoneSidKey"] == nil {
		t.Fatalf("retrieve: %d %v", st, rec)
	}
	var d struct {
		Name       string `json:"name"`
		KeyPrefix  string `json:"keyPrefix"`
		Createable bool   `json:"createable"`
		Queryable  bool   `json:"queryable"`
		Fields     []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	if st := v.doJSON("GET", "sobjects/Organization/describe", nil, &d); st != 200 || d.KeyPrefix != "00D" || d.Createable || !d.Queryable || len(d.Fields) < 30 {
		t.Fatalf("describe: %d %+v", st, d)
	}
	// Read-only: no create, update nor delete.
	if st, _, body := v.do("POST", "sobjects/Organization", map[string]any{"Name": "X"}); st != 400 {
		t.Fatalf("create: %d %s", st, body)
	}
	if st, _, body := v.do("PATCH", "sobjects/Organization/"+org, map[string]any{"Name": "X"}); st < 400 {
		t.Fatalf("update: %d %s", st, body)
	}
	if st, _, body := v.do("DELETE", "sobjects/Organization/"+org, nil); st < 400 {
		t.Fatalf("delete: %d %s", st, body)
	}
	// Production by default.
	p := newAPIEnv(t, Config{})
	if st := p.doJSON("GET", "query?q=SELECT+IsSandbox,InstanceName+FROM+Organization", nil, &page); st != 200 || page.Records[0]["IsSandbox"] != false {
		t.Fatalf("default org: %d %+v", st, page)
	}
}

// A data file written before Organization existed gains the record on load.
func TestOrganizationAfterReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "org.json")
	e, err := New(Config{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.org.records[e.org.id].obj.rows = nil // forget it as an old file would
	delete(e.org.records, e.org.id)
	e.changedLocked()
	e.mu.Unlock()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := New(Config{DataFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e2.mu.RLock()
	r := e2.org.records[e2.org.id]
	e2.mu.RUnlock()
	if r == nil || r.obj.Name != "Organization" {
		t.Fatalf("no Organization after reload")
	}
	_ = json.Valid
}
