package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/forcesync/forcesync"
)

// problemKey is key as a Problem echoes it: cut to MaxKeyBytes (on a rune
// boundary, marked with "...") when longer, so a refused key of megabytes
// is not sent back whole in the answer.
func problemKey(key string) string {
	if len(key) <= MaxKeyBytes {
		return key
	}
	cut := MaxKeyBytes
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "..."
}

// Check applies the rules every door shares to a change built by the door
// (the REST ingest and file push decode theirs with DecodeRecord, which
// calls it; SCIM builds its own from Users and Groups): the key is
// non-empty and at most MaxKeyBytes, op is upsert (empty is upsert),
// delete or disable, the version is between 0 and forcesync.MaxVersion,
// and the fields, required for an upsert, are a JSON object. It returns
// the change with an empty op made upsert, or the Problem (Index 0) that
// refuses it; each door words the Problem in its own wire format.
func Check(c forcesync.Change) (forcesync.Change, *Problem) {
	bad := func(field, msg string) (forcesync.Change, *Problem) {
		return forcesync.Change{}, &Problem{Key: problemKey(c.Key), Field: field, Error: msg}
	}
	if strings.TrimSpace(c.Key) == "" {
		return bad("key", "is required and must be a non-empty string or a number")
	}
	if len(c.Key) > MaxKeyBytes {
		return bad("key", fmt.Sprintf("is longer than %d bytes (%d bytes)", MaxKeyBytes, len(c.Key)))
	}
	switch c.Op {
	case "":
		c.Op = forcesync.OpUpsert
	case forcesync.OpUpsert, forcesync.OpDelete, forcesync.OpDisable:
	default:
		return bad("op", fmt.Sprintf("%q is not one of upsert, delete, disable", c.Op))
	}
	if c.Version < 0 {
		return bad("version", "must be a non-negative integer")
	}
	if c.Version > forcesync.MaxVersion {
		return bad("version", fmt.Sprintf("%d is over the ceiling %d (a version that high would freeze the key)", c.Version, forcesync.MaxVersion))
	}
	if c.FieldsJSON != nil {
		v := bytes.TrimSpace(c.FieldsJSON)
		if len(v) == 0 || v[0] != '{' {
			return bad("fields", "must be a JSON object")
		}
		if mayOverflow(v) {
			var fields map[string]any
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if dec.Decode(&fields) == nil {
				if path, n := forcesync.NumberOutOfRange(fields); path != "" {
					return bad("fields", outOfRangeMsg(path, n))
				}
			}
		}
	}
	if path, n := forcesync.NumberOutOfRange(c.Fields); path != "" {
		return bad("fields", outOfRangeMsg(path, n))
	}
	if c.Op == forcesync.OpUpsert && c.FieldsJSON == nil && c.Fields == nil {
		return bad("fields", "is required for op upsert")
	}
	return c, nil
}

// A number past float64's range (1e400) is valid JSON, but the stores read
// fields back as float64: stored, it would make the record unreadable and
// stall every push of its mappings. Such a number is refused, by path.

// mayOverflow reports whether the JSON text could hold a number past
// float64's range: an exponent of three digits or more, or a run of 309
// digits. It is a cheap scan, so the full decode runs only for those.
func mayOverflow(b []byte) bool {
	run := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if run++; run >= 309 {
				return true
			}
			continue
		case c == 'e' || c == 'E':
			j := i + 1
			if j < len(b) && (b[j] == '+' || b[j] == '-') {
				j++
			}
			k := j
			for k < len(b) && b[k] >= '0' && b[k] <= '9' {
				k++
			}
			if k-j >= 3 {
				return true
			}
		}
		run = 0
	}
	return false
}

func outOfRangeMsg(path string, n json.Number) string {
	return fmt.Sprintf("%s: %s is too large a number (numbers go up to about 1.8e308; send it as a string)", path, n)
}
