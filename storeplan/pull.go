package storeplan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// The pull side's shared decisions (forcesync.PullStore): encodings and
// the checks both stores make the same way.

// JSONText encodes v (a map or a slice) as JSON text; nil becomes "{}" for
// maps the caller passes as such.
func JSONText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// DecodeMap decodes a JSON object written by JSONText; "" is nil. Numbers
// stay json.Number, so a pulled value compares as Salesforce sent it.
func DecodeMap(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]any
	d := json.NewDecoder(stringsReader(s))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode stored JSON: %w", err)
	}
	return m, nil
}

// EncodeSeen encodes a watermark's seen set (Id -> SystemModstamp ms).
func EncodeSeen(seen map[string]time.Time) (string, error) {
	m := make(map[string]int64, len(seen))
	for id, t := range seen {
		m[id] = MS(t)
	}
	return JSONText(m)
}

// DecodeSeen decodes EncodeSeen's text.
func DecodeSeen(s string) (map[string]time.Time, error) {
	var m map[string]int64
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decode watermark: %w", err)
	}
	out := make(map[string]time.Time, len(m))
	for id, v := range m {
		out[id] = FromMS(v)
	}
	return out, nil
}

// NoteKept is how long a push note (forcesync.PushNote) outlives a pull
// commit that did not read it: the note of a push still in flight (its
// write not yet seen, or seen before the push completed) must outlast it,
// so that its write is recognised as forcesync's own when it comes back;
// a note of a push that never reached Salesforce goes after this.
const NoteKept = 24 * time.Hour

// EncodeHeld encodes a push note's held-back fields (PushNote.Held) as
// JSON {field: Unix ms}; none is "".
func EncodeHeld(held map[string]time.Time) (string, error) {
	if len(held) == 0 {
		return "", nil
	}
	return EncodeSeen(held)
}

// DecodeHeld decodes EncodeHeld's text; "" is nil.
func DecodeHeld(s string) (map[string]time.Time, error) {
	if s == "" {
		return nil, nil
	}
	return DecodeSeen(s)
}

// PulledVersion is the version and accept time (Unix ms) a source
// record keeps when a pulled change is written to it: the application's
// own, so that its next change, numbered after its last, is not refused
// as old; a record the pull creates (none stored, or an Accept's
// placeholder of version 0) gets version 1 and now.
func PulledVersion(version, updated, now int64) (int64, int64) {
	if version == 0 {
		return 1, now
	}
	return version, updated
}

// StalePull is CommitPull's answer when a record changed since the puller
// read it: nothing was written; the puller reads again and decides again.
func StalePull(mapping, key, what string) error {
	return forcesync.Errorf(forcesync.EConflict, "pull %s: record %s changed while pulling (%s); decide again", mapping, key, what)
}

// BoundElsewhere is CommitPull's answer when a record would bind key to
// a Salesforce Id that another key of the mapping (other) holds: the
// puller read the Id unbound, and a push (or another pull) bound it
// since. Binding it too would give the application a twin of other's
// record; nothing was written, and the puller decides again, finding the
// binding. The puller binds an Id only when it read none for it, so a
// decision on fresh state never meets this.
func BoundElsewhere(mapping, key, id, other string) error {
	return forcesync.Errorf(forcesync.EConflict, "pull %s: Salesforce record %s is bound to key %s since it was read; not binding it to %s too; decide again",
		mapping, id, other, key)
}

// EventFields are a pulled change's columns as text.
type EventFields struct {
	Fields, Changed string
}

// EncodeEvent encodes the JSON columns of a pulled change.
func EncodeEvent(ev *forcesync.PulledChange) (EventFields, error) {
	f := ev.Fields
	if f == nil {
		f = map[string]any{}
	}
	fs, err := JSONText(f)
	if err != nil {
		return EventFields{}, err
	}
	ch := ev.Changed
	if ch == nil {
		ch = []string{}
	}
	cs, err := JSONText(ch)
	if err != nil {
		return EventFields{}, err
	}
	return EventFields{fs, cs}, nil
}

// DecodeEvent fills ev's JSON columns.
func DecodeEvent(ev *forcesync.PulledChange, fields, changed string) error {
	m, err := DecodeMap(fields)
	if err != nil {
		return err
	}
	ev.Fields = m
	if err := json.Unmarshal([]byte(changed), &ev.Changed); err != nil {
		return fmt.Errorf("decode changed: %w", err)
	}
	return nil
}

// ConflictValue encodes one side's value of a conflict.
func ConflictValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// DecodeConflictValue decodes ConflictValue's text.
func DecodeConflictValue(s string) any {
	var v any
	d := json.NewDecoder(stringsReader(s))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return s
	}
	return v
}

// EventID is a pulled change's id for receivers' de-duplication: the same
// Salesforce change gets the same id however often it is delivered.
func EventID(ev *forcesync.PulledChange) string {
	return fmt.Sprintf("%s.%s.%d.%s", ev.Mapping, ev.SalesforceID, ev.Modstamp.UnixMilli(), ev.Op)
}

// DeliveryState is a webhook delivery's state column.
func DeliveryState(r forcesync.DeliveryResult) string {
	switch {
	case r.OK:
		return "done"
	case r.Dead:
		return "dead"
	}
	return "pending"
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// CursorGone is Changes' answer for a cursor below the highest Seq pruned:
// changes after it may be gone, so the reader must resync.
func CursorGone(after, through int64) error {
	return forcesync.Errorf(forcesync.EGone, "cursor %d is older than the changes kept (changes up to %d were pruned after pull.retention): "+
		"read the records again (GET /api/v1/sources/{source}/records), then follow the feed from the cursor of a fresh read (after=0)", after, through)
}

// CursorAhead is the error of Changes for a cursor no change of the feed
// ever had: above the newest change the store numbered (latest). It is
// not from this store (one recreated, or another replica's database), and
// following it would skip every change until the numbers grew that high.
func CursorAhead(after, latest int64) error {
	return forcesync.Errorf(forcesync.EGone, "cursor %d is ahead of the newest change (%d): it is not from this store's feed (was the store recreated?): "+
		"read the records again (GET /api/v1/sources/{source}/records), then follow the feed from after=0", after, latest)
}

// LatestSeq is the query of the highest number the changes feed gave a
// change, pruned ones included (0 for none); greatest is the dialect's
// function of the larger of two values (MAX in SQLite, GREATEST in
// PostgreSQL).
func LatestSeq(greatest string) string {
	return `SELECT ` + greatest + `(COALESCE((SELECT MAX(seq) FROM pull_events), 0), COALESCE((SELECT MAX(through) FROM pull_pruned), 0))`
}

// UnboundStatus is the statement that settles the status of a key whose
// binding a pull removed because Salesforce deleted the record (mapping,
// key and now bound as the dialect's placeholders): it names no
// Salesforce Id any more, and reads StateDeleted with its error, hold and
// attempts cleared; but a key with a change queued keeps its state (that
// push decides what becomes of it, and its status with it).
func UnboundStatus(mapping, key, now string) string {
	return `UPDATE statuses SET sf_id = '', fingerprint = '', updated = ` + now + `,
		state = CASE WHEN q.queued THEN statuses.state ELSE '` + string(forcesync.StateDeleted) + `' END,
		error_code = CASE WHEN q.queued THEN statuses.error_code ELSE '' END,
		error_message = CASE WHEN q.queued THEN statuses.error_message ELSE '' END,
		error_fields = CASE WHEN q.queued THEN statuses.error_fields ELSE '' END,
		held_fp = CASE WHEN q.queued THEN statuses.held_fp ELSE '' END,
		attempts = CASE WHEN q.queued THEN statuses.attempts ELSE 0 END,
		next_attempt = CASE WHEN q.queued THEN statuses.next_attempt ELSE 0 END
		FROM (SELECT EXISTS (SELECT 1 FROM outbox o WHERE o.mapping = ` + mapping + ` AND o.key = ` + key + `) AS queued) AS q
		WHERE statuses.mapping = ` + mapping + ` AND statuses.key = ` + key
}

// BoundStatus is the statement that makes the status of a key a pull
// bound (again) to a Salesforce Id (mapping, key, id and now as the
// dialect's placeholders) name that Id, when it named one: a merge moved
// the key to the surviving record. A status naming none (a record
// restored from the recycle bin) gets it with the push the pull queues.
func BoundStatus(mapping, key, id, now string) string {
	return `UPDATE statuses SET sf_id = ` + id + `, updated = ` + now + `
		WHERE mapping = ` + mapping + ` AND key = ` + key + ` AND sf_id <> '' AND sf_id <> ` + id
}

// UnboundBefore is the instant before which PrunePulled forgets the keys
// of bindings a Salesforce delete removed: forcesync.UnboundKept before
// the one the pulled changes are pruned before.
func UnboundBefore(before time.Time) time.Time { return before.Add(-forcesync.UnboundKept) }

// DecodeIntent makes an intent of its stored columns (key, the match
// values as JSON, at in Unix ms), as PullStore.Intents lists it.
func DecodeIntent(key, match string, at int64) (forcesync.Intent, error) {
	in := forcesync.Intent{Key: key, At: FromMS(at)}
	if err := json.Unmarshal([]byte(match), &in.Match); err != nil {
		return in, fmt.Errorf("stored intent of %s: %w", key, err)
	}
	return in, nil
}

// FieldPath splits a dot path into a source record's fields ("email",
// "contact.email") into its segments, refusing an empty segment and one
// with a double quote (which SQLite's JSON paths cannot quote).
func FieldPath(field string) ([]string, error) {
	segs := strings.Split(field, ".")
	for _, s := range segs {
		if s == "" || strings.Contains(s, `"`) {
			return nil, forcesync.Errorf(forcesync.EInvalid, "field %q: a path of field names separated by dots, without double quotes", field)
		}
	}
	return segs, nil
}

// LowerValues lower-cases values, drops the empty ones and duplicates,
// and sorts them.
func LowerValues(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v != "" {
			out = append(out, strings.ToLower(v))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
