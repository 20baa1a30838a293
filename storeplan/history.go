package storeplan

import (
	"encoding/json"

	"github.com/forcesync/forcesync"
)

// History is one attempt row to write: the outcome of o in run runID.
// N numbers the key's attempts (1, 2, ...); Slot is where the row goes,
// so a key never has more than forcesync.HistoryKept rows: the newest
// overwrites the oldest.
type History struct {
	Key, Op, State, SalesforceID string
	ErrorCode, ErrorMessage      string
	ErrorFields, Fingerprint     string
	N                            int64
	Slot                         int
	Version                      int64
}

// HistoryRow builds the attempt row of an outcome that is the key's n-th.
func HistoryRow(o *forcesync.Outcome, n int64) History {
	h := History{Key: o.Item.Key, Op: string(o.Item.Op), State: string(o.State), SalesforceID: o.SalesforceID,
		Fingerprint: o.Fingerprint, N: n, Slot: int(n % forcesync.HistoryKept), Version: o.Item.Version}
	h.ErrorCode, h.ErrorMessage, h.ErrorFields = ErrorColumns(o.Error)
	return h
}

// ErrorColumns splits a record error into the columns both stores keep it
// in (code, message, fields as a JSON array; "" for none). DecodeAttempt
// reads them back.
func ErrorColumns(e *forcesync.RecordError) (code, msg, fields string) {
	if e == nil {
		return "", "", ""
	}
	if len(e.Fields) > 0 {
		b, _ := json.Marshal(e.Fields)
		fields = string(b)
	}
	return e.Code, e.Message, fields
}

// HistoryConflict ends both stores' inserts into record_history: a newer
// attempt takes the slot of the oldest kept.
const HistoryConflict = `ON CONFLICT (mapping, key, slot) DO UPDATE SET n = excluded.n, at = excluded.at, run_id = excluded.run_id,
	op = excluded.op, state = excluded.state, sf_id = excluded.sf_id, error_code = excluded.error_code,
	error_message = excluded.error_message, error_fields = excluded.error_fields,
	fingerprint = excluded.fingerprint, version = excluded.version`

// DecodeAttempt fills a's error from its stored columns.
func DecodeAttempt(a *forcesync.Attempt, code, msg, fields string) {
	if code == "" && msg == "" {
		return
	}
	a.Error = &forcesync.RecordError{Code: code, Message: msg}
	if fields != "" {
		_ = json.Unmarshal([]byte(fields), &a.Error.Fields)
	}
}
