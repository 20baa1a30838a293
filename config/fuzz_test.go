package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/forcesync/forcesync/config"
)

func jsonNumber(s string) json.Number { return json.Number(s) }

// FuzzParse: no input makes Parse panic, and what it accepts resolves.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("mappings: [{fields: [{target: A, map: {1: [2]}}]}]"))
	f.Add([]byte("engine: {lease: 1e400, bulk_threshold: 0x7fffffffffffffffff}"))
	stories, _ := filepath.Glob("../mapping/testdata/*.yaml")
	for _, s := range stories {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data, "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		_ = cfg.Resolve(func(string) string { return "x" })
	})
}
