package engine_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/sqlite"
)

// TestPasswordLostOnRestart: a password accepted, then forcesync restarts
// before setting it. The password is gone (never at rest), but the mark
// is not: the User is pushed and held with PASSWORD_NOT_SET saying what to
// do; the password sent again is set, the record is synced and the user
// logs in; the mark is cleared; no file holds either password.
func TestPasswordLostOnRestart(t *testing.T) {
	const first, second = "F1rstSecretPass", "Sec0ndSecretPass"
	ctx := context.Background()
	m := userMapping()
	m.Fields = append(m.Fields, forcesync.FieldRow{Target: "Password", SourceField: "password"})
	dir := t.TempDir()
	r := newRig(t, engine.Config{}, m)
	// The rig's store lives elsewhere; this test's store is in dir, to scan.
	store, err := sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	start := func() (*engine.Engine, forcesync.Store) {
		pws := engine.NewPasswords([]forcesync.Mapping{m})
		eng, err := engine.New(ctx, store, r.api, []forcesync.Mapping{m}, engine.Config{Passwords: pws})
		if err != nil {
			t.Fatal(err)
		}
		return eng, pws.Intake(store)
	}
	send := func(eng *engine.Engine, door forcesync.Store, pw string) {
		t.Helper()
		fields := map[string]any{"first": "Grace", "last": "Hopper", "email": "grace@example.com"}
		if pw != "" {
			fields["password"] = pw
		}
		if _, err := door.Accept(ctx, eng.MappingsFor("person"), []forcesync.Change{{Source: "person", Key: "g1", Fields: fields}}); err != nil {
			t.Fatal(err)
		}
	}
	statusOf := func() forcesync.RecordStatus {
		t.Helper()
		sts, err := store.Statuses(ctx, "person", "g1")
		if err != nil || len(sts) != 1 {
			t.Fatalf("statuses %+v %v", sts, err)
		}
		return sts[0]
	}
	login := func(pw string) int {
		resp, err := http.PostForm(r.api.Client.LoginURL()+"/services/oauth2/token", url.Values{"grant_type": {"password"},
			"client_id": {"forcesync-demo"}, "client_secret": {"forcesync-demo-secret"},
			"username": {"grace@example.com.sbx"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	eng, door := start()
	send(eng, door, first)
	// Restart before the engine ran: a new process, its memory empty.
	eng, door = start()
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	st := statusOf()
	if st.State != forcesync.StateHeld || st.Error == nil || st.Error.Code != forcesync.CodePasswordNotSet || st.SalesforceID == "" {
		t.Fatalf("after the restart: %+v", st)
	}
	if n := len(r.query("SELECT Id FROM User WHERE Username = 'grace@example.com.sbx'")); n != 1 {
		t.Fatalf("%d users, want the one created without its password", n)
	}
	if code := login(first); code == http.StatusOK {
		t.Fatal("logged in with a password that was never set")
	}
	// Held, not lost: nothing changes until the password comes again.
	send(eng, door, second)
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(); st.State != forcesync.StateSynced || st.Error != nil {
		t.Fatalf("after the password came again: %+v", st)
	}
	if code := login(second); code != http.StatusOK {
		t.Fatalf("login with the password sent again: %d", code)
	}
	if marks, err := store.PasswordMarked(ctx, "person", []string{"g1"}); err != nil || len(marks) != 0 {
		t.Fatalf("marks left %v %v", marks, err)
	}
	// A later push of the same record is not held again.
	send(eng, door, "")
	if _, err := eng.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(); st.State != forcesync.StateSynced {
		t.Fatalf("after a change without a password: %+v", st)
	}
	store.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, pw := range []string{first, second} {
			if bytes.Contains(b, []byte(pw)) {
				t.Errorf("a password is in %s", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
