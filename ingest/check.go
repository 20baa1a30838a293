package ingest

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/forcesync/forcesync"
)

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
		return forcesync.Change{}, &Problem{Key: c.Key, Field: field, Error: msg}
	}
	if strings.TrimSpace(c.Key) == "" {
		return bad("key", "is required and must be a non-empty string or a number")
	}
	if len(c.Key) > MaxKeyBytes {
		return bad("key", fmt.Sprintf("is longer than %d bytes", MaxKeyBytes))
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
		if v := bytes.TrimSpace(c.FieldsJSON); len(v) == 0 || v[0] != '{' {
			return bad("fields", "must be a JSON object")
		}
	}
	if c.Op == forcesync.OpUpsert && c.FieldsJSON == nil && c.Fields == nil {
		return bad("fields", "is required for op upsert")
	}
	return c, nil
}
