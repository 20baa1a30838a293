package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
	"golang.org/x/crypto/bcrypt"
)

func TestConsoleAdmins(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	text := minimal + "console:\n  session_ttl: 2h\n  admins:\n    - username: alice@example.com\n      password_hash: '" + string(hash) + "'\n"
	cfg, err := config.Parse([]byte(text), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Console.Admins) != 1 || cfg.Console.Admins[0].Username != "alice@example.com" ||
		cfg.Console.Admins[0].PasswordHash != string(hash) || cfg.Console.SessionTTL != 2*time.Hour {
		t.Fatalf("console = %+v", cfg.Console)
	}
}

func TestConsoleRefusals(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"console:\n  admins:\n    - username: bob\n      password_hash: hunter2\n", "console.admins[0].password_hash: is not a bcrypt hash"},
		{"console:\n  admins:\n    - username: bob\n", "password_hash is required"},
		{"console:\n  admins:\n    - username: 'b o b'\n      password_hash: x\n", "console.admins[0].username"},
		{"console:\n  session_ttl: 1s\n", "console.session_ttl: must be from 1m"},
		{"console:\n  admin: []\n", "admin"},
	} {
		_, err := config.Parse([]byte(minimal+tc.yaml), "forcesync.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}
