package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
)

// Rewrite writes fields (JSON text) straight into the stored record
// source/key, past every check, as data stored by an older release.
type Rewrite func(t *testing.T, source, key, fields string)

// UnreadableFields checks that a record whose stored fields cannot be read
// back (a number past float64's range) does not fail the claims of its
// mapping: it comes with Unreadable naming the field, the others come
// whole, by either claim path (a small claim and one of 1,000 rows), and a
// new change of the record makes it readable again. Each store calls it
// with a rewrite that writes its own tables.
func UnreadableFields(t *testing.T, s forcesync.Store, clk *Clock, rewrite Rewrite) {
	accept(t, s, []string{"m"},
		forcesync.Change{Key: "a", Version: 1, Fields: map[string]any{"email": "a@x.com"}},
		forcesync.Change{Key: "b", Version: 1, Fields: map[string]any{"email": "b@x.com"}},
		forcesync.Change{Key: "c", Version: 1, Fields: map[string]any{"email": "c@x.com"}})
	rewrite(t, "contact", "b", `{"email":"b@x.com","amount":1e400}`)

	if in, ok := forcesync.StoreAs[forcesync.Inspector](s); ok {
		peeked, err := in.Peek(ctx, forcesync.PeekQuery{Mapping: "m", Now: clk.Now()})
		if err != nil || len(peeked) != 3 || peeked[1].Unreadable == nil || peeked[0].Unreadable != nil {
			t.Fatalf("Peek: %+v %v", peeked, err)
		}
	}
	items := claim(t, s, clk, "m", "w", 10)
	if got := keys(items); strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("claimed %v, want a,b,c", got)
	}
	var bad forcesync.WorkItem
	for _, it := range items {
		if it.Key == "b" {
			bad = it
			continue
		}
		if it.Unreadable != nil || it.Fields["email"] != it.Key+"@x.com" {
			t.Fatalf("readable item %s: fields %v, unreadable %v", it.Key, it.Fields, it.Unreadable)
		}
	}
	re := bad.Unreadable
	if re == nil || re.Code != forcesync.CodeUnreadableRecord || len(re.Fields) != 1 || re.Fields[0] != "amount" ||
		!strings.Contains(re.Message, "amount") || !strings.Contains(re.Message, "1e400") || bad.Fields != nil {
		t.Fatalf("unreadable item: fields %v, error %+v", bad.Fields, re)
	}
	rec, err := s.SourceRecord(ctx, "contact", "b")
	if !errors.As(err, &re) || re.Code != forcesync.CodeUnreadableRecord || rec == nil || rec.Version != 1 ||
		rec.Fields["amount"] != json.Number("1e400") || rec.Fields["email"] != "b@x.com" {
		t.Fatalf("SourceRecord of the unreadable record: %+v %v", rec, err)
	}
	unreadableListed(t, s)

	outs := make([]forcesync.Outcome, len(items))
	for i, it := range items {
		outs[i] = forcesync.Outcome{Item: it, State: forcesync.StateSynced, SalesforceID: "003" + it.Key, Fingerprint: "fp"}
		if it.Unreadable != nil {
			outs[i] = forcesync.Outcome{Item: it, State: forcesync.StateHeld, Error: it.Unreadable}
		}
	}
	complete(t, s, "w", outs...)
	if st := status(t, s, "b", "m"); st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodeUnreadableRecord ||
		len(st.Error.Fields) != 1 || st.Error.Fields[0] != "amount" {
		t.Fatalf("status of the unreadable record %+v", st)
	}

	// A new change replaces the fields: the record flows again.
	accept(t, s, []string{"m"}, forcesync.Change{Key: "b", Version: 2, Fields: map[string]any{"email": "b@x.com", "amount": "1e400"}})
	again := claim(t, s, clk, "m", "w", 10)
	if len(again) != 1 || again[0].Key != "b" || again[0].Unreadable != nil || again[0].Fields["amount"] != "1e400" {
		t.Fatalf("re-sent record %+v", again)
	}

	// A claim large enough to read by key ranges (sqlite's claimRanges).
	const n = 1000
	cs := make([]forcesync.Change, n)
	for i := range cs {
		cs[i] = forcesync.Change{Key: fmt.Sprintf("k%04d", i), Version: 1, Fields: map[string]any{"n": float64(i)}}
	}
	accept(t, s, []string{"big"}, cs...)
	rewrite(t, "contact", "k0500", `{"n":[1,{"deep":-2e999}]}`)
	big := claim(t, s, clk, "big", "w", n)
	if len(big) != n {
		t.Fatalf("claimed %d of %d", len(big), n)
	}
	for _, it := range big {
		switch {
		case it.Key == "k0500":
			if it.Unreadable == nil || len(it.Unreadable.Fields) != 1 || it.Unreadable.Fields[0] != "n[1].deep" {
				t.Fatalf("unreadable item in a large claim: %+v", it.Unreadable)
			}
		case it.Unreadable != nil || it.Fields == nil:
			t.Fatalf("item %s of a large claim: fields %v, unreadable %v", it.Key, it.Fields, it.Unreadable)
		}
	}
}

// unreadableListed checks that listings give the unreadable record b of
// source contact with Unreadable set and Fields nil, and the others whole,
// instead of failing: by pages, after a key, and by a field's value.
func unreadableListed(t *testing.T, s forcesync.Store) {
	t.Helper()
	for _, c := range []struct {
		q    forcesync.SourceQuery
		want string
	}{
		{forcesync.SourceQuery{Source: "contact"}, "a,b,c"},
		{forcesync.SourceQuery{Source: "contact", Limit: 2}, "a,b"},
		{forcesync.SourceQuery{Source: "contact", Offset: 1, Limit: 1}, "b"},
		{forcesync.SourceQuery{Source: "contact", After: "a"}, "b,c"},
		{forcesync.SourceQuery{Source: "contact", Field: "email", Value: "B@x.com"}, "b"},
	} {
		recs, err := s.SourceRecords(ctx, c.q)
		if err != nil {
			t.Fatalf("SourceRecords %+v with an unreadable record: %v", c.q, err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.Key)
			if r.Key != "b" {
				if r.Unreadable != nil || r.Fields["email"] != r.Key+"@x.com" {
					t.Fatalf("SourceRecords %+v: readable record %s: fields %v, unreadable %v", c.q, r.Key, r.Fields, r.Unreadable)
				}
				continue
			}
			re := r.Unreadable
			if re == nil || re.Code != forcesync.CodeUnreadableRecord || len(re.Fields) != 1 || re.Fields[0] != "amount" ||
				!strings.Contains(re.Message, "1e400") || r.Fields != nil || r.Version != 1 || r.Updated.IsZero() {
				t.Fatalf("SourceRecords %+v: unreadable record: %+v (error %+v)", c.q, r, re)
			}
		}
		if strings.Join(got, ",") != c.want {
			t.Fatalf("SourceRecords %+v listed %v, want %s", c.q, got, c.want)
		}
	}
	if n, err := s.CountSourceRecords(ctx, forcesync.SourceQuery{Source: "contact"}); err != nil || n != 3 {
		t.Fatalf("CountSourceRecords with an unreadable record: %d %v", n, err)
	}
}
