package storetest

import (
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testSessions checks the console's sessions (issue 13): stored, found
// until they expire, refused twice, deleted one by one or when expired.
func testSessions(t *testing.T, st forcesync.Store, clk *Clock) {
	s, ok := st.(forcesync.SessionStore)
	if !ok {
		t.Fatal("the store does not implement forcesync.SessionStore")
	}
	now := clk.Now()
	a := forcesync.Session{ID: "a1", User: "alice", Created: now, Expires: now.Add(time.Hour)}
	b := forcesync.Session{ID: "b1", User: "bob", Created: now, Expires: now.Add(2 * time.Hour)}
	for _, x := range []forcesync.Session{a, b} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatalf("CreateSession %s: %v", x.ID, err)
		}
	}
	if err := s.CreateSession(ctx, a); forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("CreateSession twice: got %v, want a conflict", err)
	}
	got, err := s.Session(ctx, "a1", now.Add(59*time.Minute))
	if err != nil {
		t.Fatalf("Session a1: %v", err)
	}
	if got.User != "alice" || !got.Created.Equal(now) || !got.Expires.Equal(a.Expires) {
		t.Fatalf("Session a1 = %+v, want %+v", got, a)
	}
	if _, err := s.Session(ctx, "a1", now.Add(time.Hour)); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("Session a1 at its expiry: got %v, want not found", err)
	}
	if _, err := s.Session(ctx, "nope", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("unknown session: got %v, want not found", err)
	}
	n, err := s.DeleteExpiredSessions(ctx, now.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.Session(ctx, "b1", now); err != nil {
		t.Fatalf("b1 should survive: %v", err)
	}
	if err := s.DeleteSession(ctx, "b1"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if err := s.DeleteSession(ctx, "b1"); err != nil {
		t.Fatalf("DeleteSession of a gone session: %v", err)
	}
	if _, err := s.Session(ctx, "b1", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("deleted session: got %v, want not found", err)
	}
}
