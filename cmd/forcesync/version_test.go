package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: version and --version name the build and the Go version.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out strings.Builder
		if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if s := out.String(); !strings.HasPrefix(s, "forcesync ") || !strings.Contains(s, runtime.Version()) {
			t.Errorf("%v printed %q, want forcesync's version and %s", args, s, runtime.Version())
		}
	}
}
