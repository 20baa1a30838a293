package emulator

import (
	"strings"
	"testing"
)

// TestAddFieldBringsADeletedFieldBack: a custom field deleted and created
// again is in the describe and takes writes, its old values gone; the
// describe's Last-Modified moves; a field that exists is refused.
func TestAddFieldBringsADeletedFieldBack(t *testing.T) {
	v := newAPIEnv(t, Config{Objects: []ObjectConfig{{Name: "Contact", Fields: []FieldConfig{{Name: "Tier__c", Type: "string", Length: 40}}}}})
	var created struct{ ID string }
	if st := v.doJSON("POST", "sobjects/Contact", map[string]any{"LastName": "One", "Tier__c": "gold"}, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if err := v.e.DeleteField("Contact", "Tier__c"); err != nil {
		t.Fatal(err)
	}
	_, h, _ := v.do("GET", "sobjects/Contact/describe", nil)
	deleted := h.Get("Last-Modified")
	if st, _, b := v.do("POST", "/__emulator/schema/add-field", map[string]any{"object": "Contact",
		"field": map[string]any{"name": "Tier__c", "type": "string", "length": 40}}); st != 204 {
		t.Fatalf("add-field: %d %s", st, b)
	}
	st, h, body := v.do("GET", "sobjects/Contact/describe", nil)
	if st != 200 || !strings.Contains(string(body), `"name":"Tier__c"`) {
		t.Fatalf("describe after add-field: %d, Tier__c missing", st)
	}
	if h.Get("Last-Modified") == deleted {
		t.Errorf("Last-Modified stayed %s after the field came back", deleted)
	}
	if got := v.fieldOf(created.ID, "Tier__c"); got != nil {
		t.Errorf("the re-created field holds the deleted value %v", got)
	}
	if st, _, b := v.do("PATCH", "sobjects/Contact/"+created.ID, map[string]any{"Tier__c": "silver"}); st != 204 {
		t.Fatalf("write the re-created field: %d %s", st, b)
	}
	if got := v.fieldOf(created.ID, "Tier__c"); got != "silver" {
		t.Errorf("Tier__c = %v, want silver", got)
	}
	if err := v.e.AddField("Contact", FieldConfig{Name: "Tier__c"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding an existing field: %v", err)
	}
	if err := v.e.AddField("Contact", FieldConfig{Name: "Tier"}); err == nil {
		t.Error("a field name without __c was taken")
	}
	if err := v.e.AddField("Nope__c", FieldConfig{Name: "X__c"}); err == nil {
		t.Error("a field on an unknown object was taken")
	}
}
