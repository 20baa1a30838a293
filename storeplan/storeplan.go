// Package storeplan holds the decisions every forcesync.Store makes the same
// way whatever its database: which version an accepted change gets and
// which changes of one call coalesce, and what completing an outcome does
// to the outbox row, the binding, the intent and the status. The stores
// keep their own SQL; this package keeps them agreeing.
package storeplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
)

// FieldsJSON returns the fields of c as a JSON object: FieldsJSON as
// received (checked to be an object) or Fields encoded.
func FieldsJSON(c *forcesync.Change) (string, error) {
	f := c.FieldsJSON
	switch {
	case len(f) == 0:
		var err error
		if f, err = json.Marshal(c.Fields); err != nil {
			return "", forcesync.Errorf(forcesync.EInvalid, "change %s: fields: %v", c.Key, err)
		}
	case f[0] != '{' || !json.Valid(f):
		return "", forcesync.Errorf(forcesync.EInvalid, "change %s: fields: not a JSON object", c.Key)
	}
	return string(f), nil
}

// SourceKey names a source record.
type SourceKey struct{ Source, Key string }

// Record is one source record to write after Versions.
type Record struct {
	Source, Key string
	Version     int64
	Deleted     bool
	Op          string
	Fields      string
	Priority    int
}

// Versions resolves the version of each change against stored (the stored
// version per key, 0 when new; updated in place) and coalesces changes of
// one key within the call to the newest, keeping the most urgent priority.
// fields[i] is change i's JSON. A change whose version is not above the
// stored one is ignored. It returns each change's result and the records
// to write, in the order of their first change.
func Versions(changes []forcesync.Change, fields []string, stored map[SourceKey]int64) ([]forcesync.AcceptResult, []Record) {
	res := make([]forcesync.AcceptResult, len(changes))
	var out []Record
	at := map[SourceKey]int{}
	for i := range changes {
		c := &changes[i]
		k := SourceKey{c.Source, c.Key}
		cur := stored[k]
		v := c.Version
		if v == 0 {
			v = cur + 1
		} else if v <= cur {
			res[i] = forcesync.AcceptResult{Key: c.Key, Version: cur, Ignored: true}
			continue
		}
		stored[k] = v
		op := c.Op
		if op == "" {
			op = forcesync.OpUpsert
		}
		r := Record{Source: c.Source, Key: c.Key, Version: v, Deleted: op == forcesync.OpDelete, Op: string(op),
			Fields: fields[i], Priority: int(c.Priority)}
		if j, ok := at[k]; ok {
			r.Priority = min(r.Priority, out[j].Priority)
			out[j] = r
		} else {
			at[k] = len(out)
			out = append(out, r)
		}
		res[i] = forcesync.AcceptResult{Key: c.Key, Version: v}
	}
	return res, out
}

// Outbox is what completing an outcome does to its outbox row.
type Outbox int

const (
	// OutboxKeep leaves the row alone: it is gone already.
	OutboxKeep Outbox = iota
	// OutboxDelete removes it: done, and unchanged since the claim.
	OutboxDelete
	// OutboxRelease frees the lease and keeps the row queued: a newer
	// change arrived while it was leased.
	OutboxRelease
	// OutboxRetry frees the lease, counts an attempt and makes the row due
	// at the outcome's NextAttempt.
	OutboxRetry
)

// Row is the outbox row of an outcome's key as the completing
// transaction reads it (locked, where the database can).
type Row struct {
	Seq   int64
	Owner string // lease owner, "" when free
}

// Prev is what the status of the key held before.
type Prev struct {
	SalesforceID    string
	HeldFingerprint string
}

// Status is the status row to write.
type Status struct {
	State                   forcesync.State
	SalesforceID            string
	ErrorCode, ErrorMessage string
	ErrorFields, Warnings   string // JSON arrays, "" when none
	Fingerprint, HeldFP     string
	Attempts                int
	NextAttempt             time.Time
	Version                 int64
}

// Plain reports whether s is the common synced status with nothing but an
// id and a fingerprint, which stores may write with a shorter statement.
func (s *Status) Plain() bool {
	return s.State == forcesync.StateSynced && s.ErrorCode == "" && s.ErrorFields == "" && s.Warnings == "" &&
		s.HeldFP == "" && s.NextAttempt.IsZero()
}

// Step is everything completing one outcome does.
type Step struct {
	// Skip: another owner claimed the row after this lease ran out; its
	// outcome wins and nothing is written for this one.
	Skip   bool
	Outbox Outbox
	// Unbind removes the binding; else Bind upserts it to the outcome's
	// Salesforce id with BindFingerprint.
	Unbind, Bind    bool
	BindFingerprint string
	// Unintent clears the key's create intent: the outcome is final.
	Unintent bool
	Status   Status
}

// Complete decides what completing o means, given owner (the completing
// worker), row (the key's outbox row, nil when gone) and prev.
func Complete(o *forcesync.Outcome, owner string, row *Row, prev Prev) Step {
	it := &o.Item
	var st Step
	newer := row != nil && row.Seq != it.Seq
	if row != nil && row.Owner != owner && !newer {
		return Step{Skip: true}
	}
	switch {
	case row == nil:
	case newer:
		st.Outbox = OutboxRelease
	case o.State == forcesync.StateRetrying:
		st.Outbox = OutboxRetry
	default:
		st.Outbox = OutboxDelete
	}
	switch {
	case o.Unbind:
		st.Unbind = true
	case o.KeepBinding:
	case o.SalesforceID != "":
		st.Bind = true
		st.BindFingerprint = o.Fingerprint
		if o.State != forcesync.StateSynced && !settledLife(o) {
			// Only an accepted payload is a no-op next time.
			st.BindFingerprint = ""
			if it.Binding != nil && it.Binding.SalesforceID == o.SalesforceID {
				st.BindFingerprint = it.Binding.Fingerprint
			}
		}
	}
	st.Unintent = o.State != forcesync.StateRetrying
	s := &st.Status
	s.State = o.State
	if newer {
		s.State = forcesync.StatePending
	}
	s.ErrorCode, s.ErrorMessage, s.ErrorFields = ErrorColumns(o.Error)
	if len(o.Warnings) > 0 {
		b, _ := json.Marshal(o.Warnings)
		s.Warnings = string(b)
	}
	s.SalesforceID = o.SalesforceID
	switch {
	case o.Unbind:
		s.SalesforceID = ""
	case s.SalesforceID == "":
		s.SalesforceID = prev.SalesforceID
	}
	switch o.State {
	case forcesync.StateHeld:
		s.HeldFP = o.Fingerprint
	case forcesync.StateRetrying:
		s.HeldFP = prev.HeldFingerprint
	}
	s.Attempts = it.Attempts + 1
	if s.State == forcesync.StateSynced || s.State == forcesync.StateDeleted || s.State == forcesync.StateSkipped ||
		s.State == forcesync.StateDisabled || s.State == forcesync.StateDeprovisioned || s.State == forcesync.StateConverted {
		s.Attempts = 0
	}
	s.Fingerprint = o.Fingerprint
	s.NextAttempt = o.NextAttempt
	s.Version = it.Version
	return st
}

// settledLife reports an outcome that disabled or deprovisioned a record:
// its binding takes the outcome's fingerprint (forcesync.FingerprintDisabled),
// so the record's next upsert is sent whatever its payload.
func settledLife(o *forcesync.Outcome) bool {
	return (o.State == forcesync.StateDisabled || o.State == forcesync.StateDeprovisioned) &&
		o.Fingerprint == forcesync.FingerprintDisabled ||
		o.State == forcesync.StateConverted && o.Fingerprint == forcesync.FingerprintConverted
}

// CheckSourceQuery checks a forcesync.SourceQuery before a store builds
// SQL from it: the field is a name of letters, digits and underscores (so
// it may go in a JSON path), and offset and limit are not negative.
func CheckSourceQuery(q *forcesync.SourceQuery) error {
	if q.Offset < 0 || q.Limit < 0 {
		return forcesync.Errorf(forcesync.EInvalid, "source query: negative offset or limit")
	}
	for _, r := range q.Field {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return forcesync.Errorf(forcesync.EInvalid, "source query: field %q: use letters, digits and underscores", q.Field)
		}
	}
	return nil
}

// MS is t in Unix milliseconds, the stores' time column; zero for the zero
// time.
func MS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMS reverses MS.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// StatusColumns are a status row's stored columns that need decoding.
type StatusColumns struct {
	State, Code, Message, Fields, Warnings string
	Next, Updated                          int64
}

// Decode fills st from c.
func (c *StatusColumns) Decode(st *forcesync.RecordStatus) {
	st.State = forcesync.State(c.State)
	st.NextAttempt = FromMS(c.Next)
	st.Updated = FromMS(c.Updated)
	st.Error, st.Warnings = nil, nil
	if c.Code != "" {
		st.Error = &forcesync.RecordError{Code: c.Code, Message: c.Message}
		if c.Fields != "" {
			_ = json.Unmarshal([]byte(c.Fields), &st.Error.Fields)
		}
	}
	if c.Warnings != "" {
		_ = json.Unmarshal([]byte(c.Warnings), &st.Warnings)
	}
}

// DecodeRecord fills rec's Fields and Updated from stored columns. Fields
// that cannot be read make an error that wraps DecodeFields' record error;
// rec.Fields then holds them as far as they decode, the numbers a float64
// cannot hold kept as json.Number (for the record page's editor and for a
// pull to merge into), or nil, and rec.Unreadable holds the record error.
func DecodeRecord(rec *forcesync.SourceRecord, fields string, updated int64) error {
	rec.Updated = FromMS(updated)
	f, re := DecodeFields([]byte(fields))
	if re != nil {
		rec.Fields = nil
		dec := json.NewDecoder(strings.NewReader(fields))
		dec.UseNumber()
		if dec.Decode(&rec.Fields) == nil {
			floatsBack(rec.Fields)
		}
		rec.Unreadable = re
		return fmt.Errorf("source record %s/%s: %w", rec.Source, rec.Key, re)
	}
	rec.Fields, rec.Unreadable = f, nil
	return nil
}

// DecodeListed decodes a record of a listing (forcesync.Store's
// SourceRecords): one whose fields cannot be read comes with Unreadable
// set and Fields nil, never as an error, so that one record stored before
// the doors refused its data does not fail the listing of its source.
func DecodeListed(rec *forcesync.SourceRecord, fields string, updated int64) {
	rec.Updated = FromMS(updated)
	rec.Fields, rec.Unreadable = DecodeFields([]byte(fields))
}

// floatsBack turns the json.Numbers in v that a float64 holds into
// float64, as a plain decode has them, leaving those it cannot hold.
func floatsBack(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if n, ok := e.(json.Number); ok {
				if f, err := strconv.ParseFloat(string(n), 64); err == nil {
					x[k] = f
				}
				continue
			}
			floatsBack(e)
		}
	case []any:
		for i, e := range x {
			if n, ok := e.(json.Number); ok {
				if f, err := strconv.ParseFloat(string(n), 64); err == nil {
					x[i] = f
				}
				continue
			}
			floatsBack(e)
		}
	}
}

// DecodeFields decodes a record's stored fields. When they cannot be read
// (data stored before the doors refused it, chiefly a number past
// float64's range), it returns a record error with code
// forcesync.CodeUnreadableRecord that names the field and what to do; the
// stores hand it on with the work item rather than fail a whole claim.
func DecodeFields(raw []byte) (map[string]any, *forcesync.RecordError) {
	var fields map[string]any
	err := json.Unmarshal(raw, &fields)
	if err == nil {
		return fields, nil
	}
	re := &forcesync.RecordError{Code: forcesync.CodeUnreadableRecord}
	var loose map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&loose) == nil {
		if path, n := forcesync.NumberOutOfRange(loose); path != "" {
			num := string(n)
			if len(num) > 40 {
				num = num[:20] + "..." + num[len(num)-10:]
			}
			re.Message = fmt.Sprintf("stored field %s holds %s, too large a number to read (numbers go up to about 1.8e308); send the record again with the value in range or as a string", path, num)
			re.Fields = []string{path}
			return nil, re
		}
	}
	re.Message = fmt.Sprintf("the stored fields cannot be read (%v); send the record again", err)
	return nil, re
}

// Usage is a connection's stored API usage row.
type Usage struct {
	Used, Max int
	Day       string // UTC date of Calls, 2006-01-02
	Calls     string // JSON object of calls by kind
}

// Add returns the row after recording u on day: calls are added to the
// day's (a new day starts from zero), and the org's figures replaced when
// u carries them.
func (old Usage) Add(u forcesync.APIUsage, day string) Usage {
	calls := map[string]int{}
	if old.Day == day && old.Calls != "" {
		_ = json.Unmarshal([]byte(old.Calls), &calls)
	}
	for k, v := range u.Calls {
		calls[k] += v
	}
	out := Usage{Used: old.Used, Max: old.Max, Day: day}
	if u.Max > 0 {
		out.Used, out.Max = u.Used, u.Max
	}
	b, _ := json.Marshal(calls)
	out.Calls = string(b)
	return out
}

// Decode fills u from the row, with today's calls (none if the row is of
// another day).
func (row Usage) Decode(u *forcesync.APIUsage, at int64, today string) {
	u.Used, u.Max, u.At = row.Used, row.Max, FromMS(at)
	u.Calls = map[string]int{}
	if row.Day == today {
		_ = json.Unmarshal([]byte(row.Calls), &u.Calls)
	}
}

// StatusesOfRecord is the query of a record's statuses under every mapping
// (cols selected; source and key bound as the dialect's placeholders src
// and key), ordered by mapping. The statuses table has no index on
// (source, key): each write of a status would pay for one, and this read is
// rare. The recursive part walks the primary key (mapping, key) from one
// distinct mapping to the next, a seek per mapping, and the key is then
// looked up under each.
func StatusesOfRecord(cols, src, key string) string {
	return `WITH RECURSIVE m (name) AS (
			SELECT (SELECT MIN(mapping) FROM statuses)
			UNION ALL
			SELECT (SELECT MIN(mapping) FROM statuses WHERE mapping > m.name) FROM m WHERE m.name IS NOT NULL)
		SELECT ` + cols + ` FROM m JOIN statuses ON statuses.mapping = m.name AND statuses.key = ` + key + `
		WHERE statuses.source = ` + src + ` ORDER BY statuses.mapping`
}
