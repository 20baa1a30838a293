package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
)

// testAdmins checks the console's stored admins (issue 13): created once,
// read, listed by name, a new password and a removal each end the admin's
// sessions and only theirs.
func testAdmins(t *testing.T, st forcesync.Store, clk *Clock) {
	s, ok := forcesync.StoreAs[forcesync.AdminStore](st)
	if !ok {
		t.Fatal("the store does not implement forcesync.AdminStore")
	}
	ss, _ := forcesync.StoreAs[forcesync.SessionStore](st)
	now := clk.Now()
	for _, a := range []forcesync.StoredAdmin{{Username: "bob", PasswordHash: "$2a$h1", Created: now, Updated: now},
		{Username: "alice", PasswordHash: "$2a$h2", Created: now, Updated: now}} {
		if err := s.CreateAdmin(ctx, a); err != nil {
			t.Fatalf("CreateAdmin %s: %v", a.Username, err)
		}
	}
	if err := s.CreateAdmin(ctx, forcesync.StoredAdmin{Username: "bob", PasswordHash: "x", Created: now, Updated: now}); forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("CreateAdmin twice: got %v, want a conflict", err)
	}
	got, err := s.Admin(ctx, "bob")
	if err != nil || got.PasswordHash != "$2a$h1" || !got.Created.Equal(now) {
		t.Fatalf("Admin bob = %+v, %v", got, err)
	}
	if _, err := s.Admin(ctx, "carol"); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("unknown admin: got %v, want not found", err)
	}
	list, err := s.Admins(ctx)
	if err != nil || len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob" {
		t.Fatalf("Admins = %+v, %v; want alice, bob", list, err)
	}
	for _, x := range []forcesync.Session{{ID: "b1", User: "bob", Created: now, Expires: now.Add(time.Hour)},
		{ID: "b2", User: "bob", Created: now, Expires: now.Add(time.Hour)},
		{ID: "a1", User: "alice", Created: now, Expires: now.Add(time.Hour)}} {
		if err := ss.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(time.Minute)
	if err := s.SetAdminPassword(ctx, "bob", "$2a$h3", later); err != nil {
		t.Fatalf("SetAdminPassword: %v", err)
	}
	got, _ = s.Admin(ctx, "bob")
	if got.PasswordHash != "$2a$h3" || !got.Updated.Equal(later) || !got.Created.Equal(now) {
		t.Fatalf("after SetAdminPassword: %+v", got)
	}
	for _, id := range []string{"b1", "b2"} {
		if _, err := ss.Session(ctx, id, now); forcesync.ErrorCode(err) != forcesync.ENotFound {
			t.Fatalf("session %s survived a new password: %v", id, err)
		}
	}
	if _, err := ss.Session(ctx, "a1", now); err != nil {
		t.Fatalf("alice's session should survive bob's new password: %v", err)
	}
	if err := s.SetAdminPassword(ctx, "carol", "x", later); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("SetAdminPassword of an unknown admin: %v", err)
	}
	if err := s.DeleteAdmin(ctx, "alice"); err != nil {
		t.Fatalf("DeleteAdmin: %v", err)
	}
	if _, err := ss.Session(ctx, "a1", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("a removed admin's session survived: %v", err)
	}
	if err := s.DeleteAdmin(ctx, "alice"); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("DeleteAdmin twice: got %v, want not found", err)
	}
	if list, _ := s.Admins(ctx); len(list) != 1 || list[0].Username != "bob" {
		t.Fatalf("Admins after removal = %+v", list)
	}
}

// testFlows checks pending OAuth flows: taken once, only by their kind,
// not after they expire, and once between racing takers.
func testFlows(t *testing.T, st forcesync.Store, clk *Clock) {
	s, ok := forcesync.StoreAs[forcesync.FlowStore](st)
	if !ok {
		t.Fatal("the store does not implement forcesync.FlowStore")
	}
	now := clk.Now()
	put := func(id, kind string, ttl time.Duration) {
		t.Helper()
		if err := s.PutFlow(ctx, forcesync.PendingFlow{ID: id, Kind: kind, Data: "sealed-" + id, Created: now, Expires: now.Add(ttl)}); err != nil {
			t.Fatalf("PutFlow %s: %v", id, err)
		}
	}
	put("f1", "connect", 10*time.Minute)
	if err := s.PutFlow(ctx, forcesync.PendingFlow{ID: "f1", Kind: "connect", Data: "x", Created: now, Expires: now.Add(time.Minute)}); forcesync.ErrorCode(err) != forcesync.EConflict {
		t.Fatalf("PutFlow twice: got %v, want a conflict", err)
	}
	f, err := s.TakeFlow(ctx, "f1", "connect", now.Add(9*time.Minute))
	if err != nil || f.Data != "sealed-f1" || f.Kind != "connect" || !f.Expires.Equal(now.Add(10*time.Minute)) || !f.Created.Equal(now) {
		t.Fatalf("TakeFlow f1 = %+v, %v", f, err)
	}
	if _, err := s.TakeFlow(ctx, "f1", "connect", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("a flow was taken twice: %v", err)
	}
	put("f2", "oidc", time.Minute)
	if _, err := s.TakeFlow(ctx, "f2", "connect", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("a flow was taken by another kind: %v", err)
	}
	if _, err := s.TakeFlow(ctx, "f2", "oidc", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("a flow tried by the wrong kind must be gone: %v", err)
	}
	put("f3", "oidc", time.Minute)
	if _, err := s.TakeFlow(ctx, "f3", "oidc", now.Add(time.Minute)); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("an expired flow was taken: %v", err)
	}
	// Racing takers (two replicas answering one callback): one wins.
	put("f4", "oidc", time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TakeFlow(ctx, "f4", "oidc", now)
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if forcesync.ErrorCode(err) != forcesync.ENotFound {
				t.Errorf("TakeFlow: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d racing takers got the flow, want 1", won)
	}
	// PutFlow forgets the flows expired by then.
	put("f5", "oidc", time.Minute)
	later := now.Add(2 * time.Minute)
	if err := s.PutFlow(ctx, forcesync.PendingFlow{ID: "f6", Kind: "oidc", Data: "d", Created: later, Expires: later.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeFlow(ctx, "f5", "oidc", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("an expired flow survived the next PutFlow: %v", err)
	}
}
