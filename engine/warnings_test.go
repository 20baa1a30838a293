package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// TestTruncationWarningKept checks a warning (a value cut to fit its field)
// stays on the record's status after a later pass that sends nothing: the
// same data again, or any data under mode: once.
func TestTruncationWarningKept(t *testing.T) {
	for _, mode := range []forcesync.Mode{forcesync.KeepUpdated, forcesync.Once} {
		t.Run(string(mode), func(t *testing.T) {
			m := leadByExtID()
			m.Filter = ""
			m.Mode = mode
			m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Title", SourceField: "title"})
			r := newRig(t, engine.Config{BulkThreshold: -1}, m)
			long := strings.Repeat("t", 200)
			c := contact("w1", "Warned", "w@example.com", 60)
			c.Fields["title"] = long
			r.accept("contact", c)
			r.drain()
			st := r.status("contact", "w1")
			if st.State != forcesync.StateSynced || len(st.Warnings) == 0 {
				t.Fatalf("first pass: %+v", st)
			}
			c2 := contact("w1", "Warned", "w@example.com", 60)
			c2.Fields["title"] = long
			c2.Fields["note"] = "a field no row reads: no change to send"
			r.accept("contact", c2)
			if n, _ := r.store.Backlog(context.Background(), m.Name); n != 1 {
				t.Fatalf("backlog %d", n)
			}
			r.drain()
			st = r.status("contact", "w1")
			if st.State != forcesync.StateSynced || len(st.Warnings) == 0 {
				t.Fatalf("after a no-change pass the warning is gone: %+v", st)
			}
		})
	}
}
