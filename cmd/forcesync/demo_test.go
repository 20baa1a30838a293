package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync/config"
)

func TestDemoReportsBothRounds(t *testing.T) {
	var out lockedBuffer
	err := run(context.Background(), []string{"demo", "--count", "200", "--seed", "7"}, func(string) string { return "" },
		strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"Salesforce emulator on http://127.0.0.1:",
		"forcesync-demo / forcesync-demo-secret",
		"Round 1:", "Round 2:",
		"held INVALID_EMAIL_ADDRESS",
		"truncated from",
		"API calls: collections",
		"records written per API call",
		"forcesync query --connection demo",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	tallies := regexp.MustCompile(`created (\d+), updated (\d+), unchanged \(no call\) (\d+), skipped by the filter \(score \?\? 0\) >= 50: (\d+), held (\d+), retrying (\d+)`).FindAllStringSubmatch(s, -1)
	if len(tallies) != 2 {
		t.Fatalf("want two tallies:\n%s", s)
	}
	n := func(m []string, i int) int { v, _ := strconv.Atoi(m[i]); return v }
	r1, r2 := tallies[0], tallies[1]
	if sum := n(r1, 1) + n(r1, 4) + n(r1, 5) + n(r1, 6); sum != 200 || n(r1, 1) == 0 || n(r1, 4) == 0 {
		t.Errorf("round 1 does not account for 200 records: %v", r1[0])
	}
	if n(r1, 2) != 0 || n(r1, 3) != 0 {
		t.Errorf("round 1 cannot update: %v", r1[0])
	}
	// Round 2 fixes every held email, edits some and resends some unchanged.
	if n(r2, 5) != 0 || n(r2, 2) == 0 || n(r2, 3) == 0 || n(r2, 1) == 0 {
		t.Errorf("round 2: %v", r2[0])
	}
	leads := regexp.MustCompile(`Salesforce now holds (\d+) Leads`).FindStringSubmatch(s)
	if leads == nil || leads[1] != strconv.Itoa(n(r1, 1)+n(r2, 1)) {
		t.Errorf("lead count %v, want created of both rounds (%d)", leads, n(r1, 1)+n(r2, 1))
	}
}

func TestDemoIsDeterministic(t *testing.T) {
	a, ma := generateContacts(300, 3)
	b, mb := generateContacts(300, 3)
	if ma != mb || len(a) != len(b) {
		t.Fatalf("mess differs: %+v %+v", ma, mb)
	}
	for i := range a {
		if a[i].key != b[i].key || a[i].fields["email"] != b[i].fields["email"] || a[i].fields["last_name"] != b[i].fields["last_name"] {
			t.Fatalf("record %d differs", i)
		}
	}
	if ma.longNames == 0 || ma.noLastName == 0 || ma.noCompany == 0 || ma.badEmail == 0 || ma.duplicates == 0 || ma.lowScore == 0 {
		t.Fatalf("300 contacts lack some kind of mess: %+v", ma)
	}
}

func TestDemoKeepStopsOnCancel(t *testing.T) {
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--count", "20", "--keep"}, func(string) string { return "" },
			strings.NewReader(""), &out, io.Discard)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "press Ctrl-C to stop") {
		select {
		case err := <-done:
			t.Fatalf("demo ended before waiting: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo never reached --keep:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo after Ctrl-C: %v", err)
	}
	if !strings.Contains(out.String(), "Stopped.") {
		t.Fatalf("no clean stop:\n%s", out.String())
	}
}

func TestDemoRefusesBadCount(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--count", "0"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard)
	if exitCode(err) != 2 {
		t.Fatalf("want a usage error, got %v", err)
	}
}

// TestCookbookConfigsParse keeps every config in docs/cookbook.md valid.
func TestCookbookConfigsParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "cookbook.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) != 7 {
		t.Fatalf("%d yaml blocks, want one per story (7)", len(blocks))
	}
	for i, m := range blocks {
		cfg, err := config.Parse([]byte(m[1]), fmt.Sprintf("cookbook block %d", i+1))
		if err != nil {
			t.Errorf("block %d: %v", i+1, err)
			continue
		}
		if len(cfg.Mappings) == 0 {
			t.Errorf("block %d has no mapping", i+1)
		}
	}
}

// TestDemoConfigParses checks the demo's embedded config on its own.
func TestDemoConfigParses(t *testing.T) {
	cfg, err := config.Parse([]byte(fmt.Sprintf(demoConfig, "http://127.0.0.1:1")), "demo")
	if err != nil || len(cfg.Mappings) != 1 || cfg.Mappings[0].Filter == "" {
		t.Fatalf("%v %+v", err, cfg)
	}
}
