package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoServesConsole: demo prints the console's URL and a one-time
// password, and the console answers with the demo's mapping.
func TestDemoServesConsole(t *testing.T) {
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--count", "20", "--keep"}, func(string) string { return "" },
			strings.NewReader(""), &out, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("demo never settled:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
	m := regexp.MustCompile(`Console on (http://127\.0\.0\.1:\d+/) \(sign in as admin / (\S+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no console line:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.PostForm(m[1]+"login", url.Values{"username": {"admin"}, "password": {m[2]}, "next": {"/mappings"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "contacts_to_leads") {
		t.Fatalf("mappings page after sign-in: %d\n%s", res.StatusCode, b)
	}
}
