package forcesync

import (
	"context"
	"time"
)

// Session is one signed-in admin of the console. The browser holds a random
// token in a cookie; the store keeps only ID, the token's SHA-256 (hex), so
// a copy of the database signs nobody in.
type Session struct {
	ID      string
	User    string
	Created time.Time
	// Expires is when the session ends, whatever happens before.
	Expires time.Time
}

// SessionStore keeps the console's sessions, so a restart or another
// replica sharing the database does not sign admins out. Both stores
// implement it (console feature, issue 13); storetest checks them.
type SessionStore interface {
	// CreateSession stores s; an ID already stored is an EConflict.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session id names if it expires after now, and
	// an ENotFound error otherwise.
	Session(ctx context.Context, id string, now time.Time) (*Session, error)
	// DeleteSession ends a session (sign out); an unknown id is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes the sessions expired at now and says
	// how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}
