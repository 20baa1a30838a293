package pull_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// TestPullPastUnreadableRecord: a record stored with a number the store
// cannot read back (1e400, accepted before the doors refused it) does not
// stall its two-way mapping's pulls: a Salesforce edit of it is merged
// into the record as stored (the number kept), and the other records'
// edits come in with it.
func TestPullPastUnreadableRecord(t *testing.T) {
	r := newRig(t, leadsBoth(forcesync.NewestWins))
	var logs bytes.Buffer
	p := r.puller(func(c *pull.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	r.accept("k1", map[string]any{"last": "Ada", "company": "ACME", "phone": "111"})
	r.accept("k2", map[string]any{"last": "Grace", "company": "ACME", "phone": "111"})
	r.drain()
	id1, id2 := r.sfID("k1"), r.sfID("k2")
	r.poll(p) // forcesync's own creates: echoes

	db, err := sql.Open("sqlite", "file:"+r.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE source_records SET fields = '{"last":"Ada","company":"ACME","phone":"111","amount":1e400}' WHERE key = 'k1'`); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.UpdateAs("Lead", id1, map[string]any{"Phone": "222"}); err != nil {
		t.Fatal(err)
	}
	if err := r.emu.UpdateAs("Lead", id2, map[string]any{"Phone": "333"}); err != nil {
		t.Fatal(err)
	}
	if st := r.poll(p); st.Changed != 2 {
		t.Fatalf("poll: %+v", st)
	}
	if got := r.src("k2").Fields["phone"]; got != "333" {
		t.Fatalf("k2 phone %v", got)
	}
	rec, err := r.store.SourceRecord(context.Background(), "client", "k1")
	var re *forcesync.RecordError
	if !errors.As(err, &re) || re.Code != forcesync.CodeUnreadableRecord || rec == nil ||
		rec.Fields["phone"] != "222" || rec.Fields["last"] != "Ada" || rec.Fields["amount"] != json.Number("1e400") {
		t.Fatalf("k1 after the pull: %+v %v", rec, err)
	}
	// The warning names the field, never its stored value.
	if out := logs.String(); !strings.Contains(out, `"event":"pull.unreadable_record"`) || !strings.Contains(out, `"fields":["amount"]`) ||
		strings.Contains(out, "1e400") {
		t.Fatalf("log: %s", out)
	}
}
