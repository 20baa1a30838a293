package forcesync

import (
	"context"
	"time"
)

// StoredAdmin is a console admin kept in the store (forcesync admin add),
// next to those listed in the config. The store keeps the password's hash
// only (bcrypt), never the password.
type StoredAdmin struct {
	Username     string
	PasswordHash string
	Created      time.Time
	// Updated is when the password was last set.
	Updated time.Time
}

// AdminStore keeps console admins, so a team can add and remove them
// without editing and reloading the config. Both stores implement it;
// storetest checks them.
type AdminStore interface {
	// CreateAdmin stores a; a username already stored is an EConflict.
	CreateAdmin(ctx context.Context, a StoredAdmin) error
	// Admin returns the admin named username, or an ENotFound error.
	Admin(ctx context.Context, username string) (*StoredAdmin, error)
	// Admins lists the stored admins by username.
	Admins(ctx context.Context) ([]StoredAdmin, error)
	// SetAdminPassword replaces the hash of an admin and ends their
	// sessions (a new password signs them out everywhere); an unknown
	// username is an ENotFound error.
	SetAdminPassword(ctx context.Context, username, hash string, now time.Time) error
	// DeleteAdmin removes an admin and their sessions; an unknown
	// username is an ENotFound error.
	DeleteAdmin(ctx context.Context, username string) error
}

// PendingFlow is an OAuth flow a browser started and has not finished: the
// console's "Connect to Salesforce" and its OIDC sign-in. It is kept in the
// store so that a restart, or another replica answering the callback,
// can finish it. Each is taken once.
type PendingFlow struct {
	// ID is the SHA-256 (hex) of the flow's OAuth state parameter, so a
	// copy of the database cannot answer a callback.
	ID string
	// Kind names the flow ("connect", "oidc"); a flow is taken only by
	// its own kind.
	Kind string
	// Data is the flow's own record (PKCE verifier, nonce, ...), sealed by
	// the console; the store keeps it as it is.
	Data    string
	Created time.Time
	Expires time.Time
}

// FlowStore keeps pending OAuth flows for a few minutes.
type FlowStore interface {
	// PutFlow stores f; an ID already stored is an EConflict. It also
	// forgets the flows expired at f.Created.
	PutFlow(ctx context.Context, f PendingFlow) error
	// TakeFlow removes the flow of id and kind and returns it if it
	// expires after now. A flow that is unknown, of another kind, expired
	// or already taken is an ENotFound error: a callback is answered once.
	TakeFlow(ctx context.Context, id, kind string, now time.Time) (*PendingFlow, error)
}
