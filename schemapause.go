package forcesync

import (
	"context"
	"time"
)

// SchemaPauses keeps the mappings the schema drift guard paused (a field
// deleted, a picklist value renamed: the mapping no longer compiles
// against the org's describe), so that a restart starts them paused
// instead of failing, and `forcesync status` shows them. Package sqlite
// and package postgres implement it beside Store (storetest covers it).
type SchemaPauses interface {
	// SetSchemaPause records p, replacing the mapping's pause if any (its
	// Since is kept: the pause goes on).
	SetSchemaPause(ctx context.Context, p SchemaPause) error
	// ClearSchemaPause forgets the mapping's pause; none is no error.
	ClearSchemaPause(ctx context.Context, mapping string) error
	// SchemaPauses lists the pauses, by mapping.
	SchemaPauses(ctx context.Context) ([]SchemaPause, error)
}

// SchemaPause is one mapping paused by a schema change.
type SchemaPause struct {
	Mapping string `json:"mapping"`
	// Reason names the object, the fields and how they changed, and why
	// the mapping no longer fits.
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// Describe is the describe (Salesforce's JSON) the mapping last
	// compiled against: a restart compiles the paused mapping against it,
	// to hold its place until the schema or the config is fixed.
	Describe []byte `json:"-"`
}
