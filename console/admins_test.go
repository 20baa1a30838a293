package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"golang.org/x/crypto/bcrypt"
)

func (f *fixture) signInAs(name, pass string) (*http.Response, *http.Cookie) {
	f.t.Helper()
	res := f.do("POST", "/login", url.Values{"username": {name}, "password": {pass}, "next": {"/"}}, nil, map[string]string{"remote": "198.51.100.7:1"})
	for _, ck := range res.Cookies() {
		if ck.Name == "forcesync_session" {
			return res, ck
		}
	}
	return res, nil
}

// TestStoredAdmins: an admin kept in the store signs in next to the
// config's; a new password or a removal ends their session at once; a
// config admin's name is the config's, whatever the store says.
func TestStoredAdmins(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash := func(p string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	now := f.clk.Now()
	if err := f.store.CreateAdmin(ctx, forcesync.StoredAdmin{Username: "bob", PasswordHash: hash("bobs password"), Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	// A store row named like a config admin changes nothing: the config's hash decides.
	if err := f.store.CreateAdmin(ctx, forcesync.StoredAdmin{Username: "alice", PasswordHash: hash("not alices"), Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	if res, ck := f.signInAs("alice", "not alices"); res.StatusCode != http.StatusUnauthorized || ck != nil {
		t.Fatalf("alice with the store's password: %d", res.StatusCode)
	}
	if _, ck := f.signInAs("alice", password); ck == nil {
		t.Fatal("alice with the config's password was refused")
	}
	if res, ck := f.signInAs("bob", "wrong password"); res.StatusCode != http.StatusUnauthorized || ck != nil {
		t.Fatalf("bob with a wrong password: %d", res.StatusCode)
	}
	res, ck := f.signInAs("bob", "bobs password")
	if ck == nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob from the store: %d", res.StatusCode)
	}
	if res := f.do("GET", "/records", nil, ck, nil); res.StatusCode != http.StatusOK || !strings.Contains(body(t, res), `<span class="who">bob</span>`) {
		t.Fatalf("bob's session: %d", res.StatusCode)
	}
	// A new password ends bob's session; the new one signs in.
	if err := f.store.SetAdminPassword(ctx, "bob", hash("bobs new password"), now); err != nil {
		t.Fatal(err)
	}
	if res := f.do("GET", "/records", nil, ck, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's session after a new password: %d", res.StatusCode)
	}
	if _, ck = f.signInAs("bob", "bobs new password"); ck == nil {
		t.Fatal("bob's new password was refused")
	}
	// Removed from the store, bob is out at once.
	if err := f.store.DeleteAdmin(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if res := f.do("GET", "/records", nil, ck, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a removed admin's session: %d", res.StatusCode)
	}
	if res, ck := f.signInAs("bob", "bobs new password"); res.StatusCode != http.StatusUnauthorized || ck != nil {
		t.Fatalf("a removed admin signing in: %d", res.StatusCode)
	}
}

// TestNoAdminsUntilOneIsStored: a console with no config admin explains
// how to add one; once the store has one, the form is there.
func TestNoAdminsUntilOneIsStored(t *testing.T) {
	f := newFixture(t)
	c, err := console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	page := body(t, f.do("GET", "/login", nil, nil, nil))
	if !strings.Contains(page, "forcesync admin add") || strings.Contains(page, `id="password"`) {
		t.Fatalf("login page without admins:\n%s", page)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("carols password"), bcrypt.MinCost)
	if err := f.store.CreateAdmin(context.Background(), forcesync.StoredAdmin{Username: "carol", PasswordHash: string(h)}); err != nil {
		t.Fatal(err)
	}
	page = body(t, f.do("GET", "/login", nil, nil, nil))
	if !strings.Contains(page, `id="password"`) || strings.Contains(page, "Sign in with") {
		t.Fatalf("login page with a stored admin:\n%s", page)
	}
	if _, ck := f.signInAs("carol", "carols password"); ck == nil {
		t.Fatal("carol was refused")
	}
}
