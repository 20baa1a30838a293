package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestDocsNameRealCommands: every forcesync command the README and the
// guides show (in inline code or a code block) exists, and so does its
// subcommand when the command only groups others (connection test).
// docs/benchmarks.md is left out: it is a log of past measurements.
func TestDocsNameRealCommands(t *testing.T) {
	env := &Env{Getenv: func(string) string { return "" }}
	cmds := map[string]*cobra.Command{}
	for _, f := range subcommands {
		c := f(env)
		if first, ok := cmds[c.Name()]; ok {
			first.AddCommand(c.Commands()...)
			continue
		}
		cmds[c.Name()] = c
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	shown := regexp.MustCompile("(?m)(?:`|^ {4,}|\\$ )(?:go run \\./cmd/)?forcesync ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")
	for _, path := range files {
		if filepath.Base(path) == "benchmarks.md" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range shown.FindAllStringSubmatch(string(b), -1) {
			c, ok := cmds[m[1]]
			if !ok {
				t.Errorf("%s: %q: forcesync has no command %q", filepath.Base(path), strings.TrimSpace(m[0]), m[1])
				continue
			}
			if c.RunE != nil || !c.HasSubCommands() {
				continue
			}
			if sub, _, err := c.Find([]string{m[2]}); err != nil || sub == c {
				t.Errorf("%s: %q: forcesync %s has no subcommand %q", filepath.Base(path), strings.TrimSpace(m[0]), m[1], m[2])
			}
		}
	}
}
