package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// A batch of 200 long emails (Salesforce allows 80 characters) once went
// in one query whose URL passed Salesforce's limit: 414, and the batch
// never matched. The lookup now splits the IN list by URL length.
func TestMatchByLongEmailsFitsTheURL(t *testing.T) {
	r := newRig(t, engine.Config{BulkThreshold: -1}, contactsByEmail(200))
	pad := strings.Repeat("a", 60)
	var seed []map[string]any
	var cs []forcesync.Change
	for i := 0; i < 200; i++ {
		email := fmt.Sprintf("%s.%04d@example.com", pad, i) // 78 characters
		if i%2 == 0 {
			seed = append(seed, map[string]any{"LastName": "Existing", "Email": email})
		}
		cs = append(cs, forcesync.Change{Key: fmt.Sprint(i), Fields: map[string]any{"last": "L" + fmt.Sprint(i), "email": email}})
	}
	if _, err := r.emu.Seed("Contact", seed); err != nil {
		t.Fatal(err)
	}
	r.accept("idp_user", cs...)
	r.drain()
	for i := 0; i < 200; i++ {
		if st := r.status("idp_user", fmt.Sprint(i)); st.State != forcesync.StateSynced {
			t.Fatalf("record %d: %+v", i, st)
		}
	}
	if n := len(r.query("SELECT Id FROM Contact")); n != 200 {
		t.Fatalf("%d Contacts, want 200: the seeded half matched, the rest created", n)
	}
}
