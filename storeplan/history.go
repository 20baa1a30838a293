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
	if o.Error != nil {
		h.ErrorCode, h.ErrorMessage = o.Error.Code, o.Error.Message
		if len(o.Error.Fields) > 0 {
			b, _ := json.Marshal(o.Error.Fields)
			h.ErrorFields = string(b)
		}
	}
	return h
}

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
