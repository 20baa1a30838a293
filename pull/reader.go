package pull

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Querier is what the pull side needs of Salesforce; *salesforce.Client
// implements it.
type Querier interface {
	Describe(ctx context.Context, obj string) (*salesforce.SObjectDescribe, error)
	Query(ctx context.Context, soql string, opt *salesforce.QueryOptions) *salesforce.Rows
	QueryAll(ctx context.Context, soql string, opt *salesforce.QueryOptions) *salesforce.Rows
}

// Reader reads the mapped fields of one Salesforce object: every change
// since a watermark (Since), or given records (ByIDs, for reconciling).
// It reads only the fields it was built with, plus the system fields a
// reader needs: Id, SystemModstamp, and IsDeleted and MasterRecordId
// where the object has them.
type Reader struct {
	q      Querier
	d      *salesforce.SObjectDescribe
	fields []string
	// deletes and merges: the object has IsDeleted / MasterRecordId.
	deletes, merges bool
}

// NewReader builds a reader of fields (API names, checked against the
// describe) of object.
func NewReader(ctx context.Context, q Querier, object string, fields []string) (*Reader, error) {
	d, err := q.Describe(ctx, object)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", object, err)
	}
	r := &Reader{q: q, d: d}
	seen := map[string]bool{}
	add := func(name string) error {
		f := d.Field(name)
		if f == nil {
			return forcesync.Errorf(forcesync.EInvalid, "%s has no field %s", d.Name, name)
		}
		if !seen[f.Name] {
			seen[f.Name] = true
			r.fields = append(r.fields, f.Name)
		}
		return nil
	}
	for _, name := range []string{"Id", "SystemModstamp"} {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	if d.Field("IsDeleted") != nil {
		r.deletes = true
		_ = add("IsDeleted")
	}
	if d.Field("MasterRecordId") != nil {
		r.merges = true
		_ = add("MasterRecordId")
	}
	if d.Field("IsConverted") != nil && d.Field("ConvertedContactId") != nil {
		// A Lead: a conversion comes in as a change of the Lead.
		_ = add("IsConverted")
		_ = add("ConvertedContactId")
	}
	for _, name := range fields {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Object is the object's API name as the describe spells it.
func (r *Reader) Object() string { return r.d.Name }

// Since runs the query of every change with SystemModstamp at or after
// the watermark's instant, oldest first (ties by Id), deleted and merged
// records included when the object has IsDeleted. SOQL datetimes have
// whole seconds, so the query starts at the instant's second; Take tells
// which rows are new.
func (r *Reader) Since(ctx context.Context, wm forcesync.Watermark, opt *salesforce.QueryOptions) (*salesforce.Rows, error) {
	soql, err := r.sinceSOQL(wm)
	if err != nil {
		return nil, err
	}
	if r.deletes {
		return r.q.QueryAll(ctx, soql, opt), nil
	}
	return r.q.Query(ctx, soql, opt), nil
}

func (r *Reader) sinceSOQL(wm forcesync.Watermark) (string, error) {
	q := salesforce.Select(r.fields...).From(r.d.Name)
	if !wm.Instant.IsZero() {
		q = q.Where(salesforce.Ge("SystemModstamp", wm.Instant.Truncate(time.Second)))
	}
	soql, err := q.OrderBy("SystemModstamp", "Id").Build(r.d)
	if err != nil {
		return "", fmt.Errorf("pull %s: %w", r.d.Name, err)
	}
	return soql, nil
}

// ByIDs reads the given records (live ones; at most 200 Ids a call,
// several calls for more).
func (r *Reader) ByIDs(ctx context.Context, ids []string) ([]salesforce.Record, error) {
	var out []salesforce.Record
	for lo := 0; lo < len(ids); lo += 200 {
		soql, err := salesforce.Select(r.fields...).From(r.d.Name).Where(salesforce.In("Id", ids[lo:min(lo+200, len(ids))]...)).Build(r.d)
		if err != nil {
			return nil, fmt.Errorf("read %s by Id: %w", r.d.Name, err)
		}
		rows := r.q.Query(ctx, soql, nil)
		for rows.Next() {
			out = append(out, rows.Record())
		}
		if err := rows.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Modstamp reads a row's SystemModstamp.
func Modstamp(rec salesforce.Record) (time.Time, error) {
	s, _ := rec["SystemModstamp"].(string)
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("record %s: SystemModstamp %q is not a datetime", rec.ID(), s)
}

// Take reports whether a row read by Since is new to the watermark: not
// older than its instant (an earlier millisecond of the same second was
// taken before), and not taken already at this same SystemModstamp.
func Take(wm *forcesync.Watermark, id string, stamp time.Time) bool {
	if stamp.Before(wm.Instant) {
		return false
	}
	if t, ok := wm.Seen[id]; ok && t.Equal(stamp) {
		return false
	}
	return true
}

// Advance moves the watermark past rows taken (ordered by SystemModstamp):
// the instant becomes the second of the newest, and Seen keeps the rows
// at or after it.
func Advance(wm forcesync.Watermark, taken map[string]time.Time) forcesync.Watermark {
	return advanceBefore(wm, taken, nil, time.Time{})
}

// advanceBefore is Advance leaving the rows deferred ahead of the
// watermark, for the next poll to read again: they are not in Seen, and
// the instant stays at or before the second of limit (the oldest
// SystemModstamp of a deferred row; zero when none is), Seen keeping
// every row taken at or after it.
func advanceBefore(wm forcesync.Watermark, taken map[string]time.Time, deferred map[string]bool, limit time.Time) forcesync.Watermark {
	newest := wm.Instant
	for id, t := range taken {
		if t.After(newest) && !deferred[id] {
			newest = t
		}
	}
	instant := newest.Truncate(time.Second)
	if !limit.IsZero() && limit.Truncate(time.Second).Before(instant) {
		instant = limit.Truncate(time.Second)
	}
	out := forcesync.Watermark{Mapping: wm.Mapping, Instant: instant, Seen: map[string]time.Time{}, Gen: wm.Gen}
	for id, t := range wm.Seen {
		if !t.Before(instant) && !deferred[id] {
			out.Seen[id] = t
		}
	}
	for id, t := range taken {
		if !t.Before(instant) && !deferred[id] {
			if old, ok := out.Seen[id]; !ok || t.After(old) {
				out.Seen[id] = t
			}
		}
	}
	return out
}
