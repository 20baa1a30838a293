package scim

import (
	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/ingest"
)

// checked puts a change SCIM built through the rules every door shares
// (ingest.Check: key length, op, version range, fields), so a User or
// Group is refused where a REST ingest record would be; the refusal is
// worded as SCIM clients expect: 400 with scimType invalidValue.
func checked(resource string, c forcesync.Change) (forcesync.Change, error) {
	c, p := ingest.Check(c)
	if p != nil {
		return c, errorf("invalidValue", "the %s cannot be stored: %s %s", resource, p.Field, p.Error)
	}
	return c, nil
}
