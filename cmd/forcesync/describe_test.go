package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

func TestDescribeCommand(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{Objects: []emulator.ObjectConfig{{
		Name: "Lead",
		Fields: []emulator.FieldConfig{
			{Name: "Ext_Id__c", Label: "Ext Id", Type: "string", Length: 40, ExternalID: true, Unique: true},
			{Name: "Tier__c", Label: "Tier", Type: "picklist", Picklist: []string{"Gold", "Silver"}},
		},
	}}})
	o.loginClientCredentials(t, "default")

	out, stderr, err := o.runCLI(t, "describe", "Lead")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	if r := rows["LastName"]; len(r) < 4 || r[1] != "string" || r[2] != "80" || r[3] != "yes" {
		t.Errorf("LastName row %v", r)
	}
	// Required is blank and External ID is yes, so "yes" comes once.
	if r := rows["Ext_Id__c"]; len(r) != 4 || r[2] != "40" || r[3] != "yes" {
		t.Errorf("Ext_Id__c row %v", r)
	}
	if !strings.Contains(out, "Gold, Silver") {
		t.Errorf("picklist values missing:\n%s", out)
	}

	out, _, err = o.runCLI(t, "describe", "Lead", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var obj describedObject
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatal(err)
	}
	byName := map[string]describedField{}
	for _, f := range obj.Fields {
		byName[f.Name] = f
	}
	if f := byName["Ext_Id__c"]; !f.ExternalID || f.Required || f.Length != 40 {
		t.Errorf("Ext_Id__c %+v", f)
	}
	if f := byName["Company"]; !f.Required {
		t.Errorf("Company %+v: want required", f)
	}
	if f := byName["Tier__c"]; strings.Join(f.Picklist, ",") != "Gold,Silver" {
		t.Errorf("Tier__c %+v", f)
	}

	if _, _, err := o.runCLI(t, "describe", "NoSuch__c"); err == nil {
		t.Fatal("unknown object described")
	}
	if _, _, err := o.runCLI(t, "describe"); err == nil {
		t.Fatal("describe without an object accepted")
	}
}
