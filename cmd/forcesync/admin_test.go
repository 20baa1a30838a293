package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/sqlite"
	"golang.org/x/crypto/bcrypt"
)

func TestAdminHashPassword(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"admin", "hash-password"}, func(string) string { return "" },
		strings.NewReader("correct horse\n"), &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	h := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("correct horse")) != nil {
		t.Fatalf("hash %q does not match the password", h)
	}
	err = run(context.Background(), []string{"admin", "hash-password"}, func(string) string { return "" },
		strings.NewReader("short\n"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "shorter than 8") {
		t.Fatalf("short password: %v", err)
	}
}

// TestAdminStoreCommands: add, list, passwd and remove admins kept in the
// config's store; names the config lists are refused; a new password and a
// removal end the admin's sessions.
func TestAdminStoreCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "forcesync.yaml")
	hash, _ := bcrypt.GenerateFromPassword([]byte("config-pass"), bcrypt.MinCost)
	cfg := fmt.Sprintf(serveConfig, "http://127.0.0.1:9") + "console:\n  admins:\n    - username: alice\n      password_hash: '" + string(hash) + "'\n" +
		"  oidc:\n    issuer: http://127.0.0.1:9\n    client_id: c\n    allowed_domains: [example.com]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(args, "--config", path), func(string) string { return "" }, strings.NewReader(stdin), &out, &errb)
		return out.String() + errb.String(), err
	}
	if out, err := cli("bobs password\n", "admin", "add", "bob"); err != nil || !strings.Contains(out, "admin bob added") {
		t.Fatalf("add: %v %s", err, out)
	}
	if _, err := cli("bobs password\n", "admin", "add", "bob"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("add twice: %v", err)
	}
	if _, err := cli("whatever pass\n", "admin", "add", "alice"); err == nil || !strings.Contains(err.Error(), "listed in the config") {
		t.Fatalf("add a config admin: %v", err)
	}
	if _, err := cli("whatever pass\n", "admin", "add", "b o b"); err == nil || !strings.Contains(err.Error(), "admin name") {
		t.Fatalf("add a bad name: %v", err)
	}
	if _, err := cli("short\n", "admin", "add", "carol"); err == nil || !strings.Contains(err.Error(), "shorter than 8") {
		t.Fatalf("add with a short password: %v", err)
	}
	out, err := cli("", "admin", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"alice  ", "config", "bob  ", "store", "*@example.com", "oidc (OpenID Connect)"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "carol") {
		t.Errorf("a refused add was stored:\n%s", out)
	}

	// The store has bob's bcrypt hash; a session of his ends with passwd.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Admin(ctx, "bob")
	if err != nil || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte("bobs password")) != nil {
		t.Fatalf("stored bob: %+v %v", a, err)
	}
	now := time.Now()
	if err := st.CreateSession(ctx, forcesync.Session{ID: "s1", User: "bob", Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if out, err := cli("bobs new password\n", "admin", "passwd", "bob"); err != nil || !strings.Contains(out, "sessions ended") {
		t.Fatalf("passwd: %v %s", err, out)
	}
	if _, err := cli("whatever pass\n", "admin", "passwd", "nobody"); err == nil {
		t.Fatal("passwd of an unknown admin succeeded")
	}
	st, err = sqlite.Open(ctx, filepath.Join(dir, "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ = st.Admin(ctx, "bob")
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte("bobs new password")) != nil {
		t.Fatal("passwd did not store the new password")
	}
	if _, err := st.Session(ctx, "s1", now); forcesync.ErrorCode(err) != forcesync.ENotFound {
		t.Fatalf("bob's session survived passwd: %v", err)
	}
	st.Close()
	if _, err := cli("", "admin", "remove", "alice"); err == nil || !strings.Contains(err.Error(), "listed in the config") {
		t.Fatalf("remove a config admin: %v", err)
	}
	if out, err := cli("", "admin", "remove", "bob"); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %v %s", err, out)
	}
	if _, err := cli("", "admin", "remove", "bob"); err == nil {
		t.Fatal("removing twice succeeded")
	}
	if out, _ := cli("", "admin", "list"); strings.Contains(out, "bob") {
		t.Fatalf("bob is still listed:\n%s", out)
	}
}
