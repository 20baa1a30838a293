package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// TestMappingValidateProfileByName checks that mapping validate compiles
// a User mapping as serve does: the profile given by name in the
// cookbook's WordPress users config (ProfileId: Standard User) is looked
// up in the org, so the mapping passes; a profile the org lacks fails,
// naming the mapping, the field and the name.
func TestMappingValidateProfileByName(t *testing.T) {
	_, sfURL := startEmulator(t, emulator.Config{})
	path := filepath.Join(t.TempDir(), "forcesync.yaml")
	cfg := cookbookForEmulator(t, "## 6.", sfURL)
	if !strings.Contains(cfg, "value: Standard User") {
		t.Fatal("the cookbook's section 6 no longer names the profile Standard User")
	}
	vars := map[string]string{"FORCESYNC_API_TOKEN": "tok", "TEST_SF_SECRET": "forcesync-demo-secret", "TEST_SF_PASSWORD": "forcesync"}
	validate := func(cfg string) (string, error) {
		t.Helper()
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := run(context.Background(), []string{"mapping", "validate", "--config", path},
			func(k string) string { return vars[k] }, strings.NewReader(""), &out, io.Discard)
		return out.String(), err
	}
	out, err := validate(cfg)
	if err != nil || !strings.Contains(out, "ok   wp_users: wp_user -> User") {
		t.Fatalf("validate of a profile the org has: %v\n%s", err, out)
	}
	out, err = validate(strings.Replace(cfg, "value: Standard User", "value: No Such Profile", 1))
	if exitCode(err) != exitInvalid {
		t.Fatalf("validate of a profile the org lacks: %v, exit %d, want %d\n%s", err, exitCode(err), exitInvalid, out)
	}
	if want := `FAIL mapping wp_users: field ProfileId: no Profile named "No Such Profile" in the org`; !strings.Contains(out, want) {
		t.Fatalf("validate output lacks %q:\n%s", want, out)
	}
}
