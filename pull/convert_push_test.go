package pull_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// TestPulledConversionThenAppChange: a rep converts a two-way mapping's
// Lead in Salesforce and a poll sees it; the app then changes the record.
// With no Contact mapping of the source to carry it, the change is held
// with LEAD_CONVERTED naming the Contact (as a push refused for the
// conversion is), not settled as converted with the change gone nowhere.
func TestPulledConversionThenAppChange(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	p := r.puller(nil)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0001"})
	r.drain()
	r.poll(p) // the push's echo
	_, contact, err := r.emu.ConvertLead(r.sfID("k1"))
	if err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Converted != 1 {
		t.Fatalf("poll stats %+v; want the conversion", st)
	}
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002"})
	r.drain()
	sts, err := r.store.Statuses(ctx, "client", "k1")
	if err != nil || len(sts) != 1 {
		t.Fatalf("statuses: %+v %v", sts, err)
	}
	st := sts[0]
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeLeadConverted || !strings.Contains(st.Error.Message, contact) {
		t.Fatalf("status after the app's change: %s %+v; want held %s naming Contact %s", st.State, st.Error, forcesync.CodeLeadConverted, contact)
	}
}

// TestPulledConversionThenPromotion: after a poll saw the Lead converted,
// the app moves the record into the source's Contact mapping: it carries
// on with the Contact the Lead became, not with a second Contact.
func TestPulledConversionThenPromotion(t *testing.T) {
	ctx := context.Background()
	r, _, contact := convertedRig(t, nil)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002", "stage": "customer"})
	r.drain()
	b, err := r.store.Binding(ctx, "contacts", "k1")
	if err != nil || b == nil || b.SalesforceID != contact {
		t.Fatalf("contacts binding %+v %v; want the converted Contact %s", b, err, contact)
	}
	if recs := r.Query("SELECT Id FROM Contact"); len(recs) != 1 {
		t.Fatalf("contacts %v; want only the converted one", recs)
	}
}

// TestPulledConversionNotADemotion: after a poll saw the Lead converted,
// the app changes the record, still in the Lead mapping's scope and out of
// the Contact mapping's. The record was never the Contact mapping's, so it
// is no demotion (CANNOT_DEMOTE would say it left that mapping's scope):
// it is held with LEAD_CONVERTED, naming the Contact and why it does not
// follow it.
func TestPulledConversionNotADemotion(t *testing.T) {
	ctx := context.Background()
	r, _, contact := convertedRig(t, nil)
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "555-0002", "stage": "lead"})
	r.drain()
	sts, err := r.store.Statuses(ctx, "client", "k1")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.Mapping != "leads" {
			continue
		}
		if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeLeadConverted ||
			!strings.Contains(st.Error.Message, contact) || !strings.Contains(st.Error.Message, "filter does not take") {
			t.Fatalf("leads status %s %+v; want held %s naming Contact %s and the Contact mapping's filter", st.State, st.Error, forcesync.CodeLeadConverted, contact)
		}
		return
	}
	t.Fatalf("no status under leads: %+v", sts)
}
