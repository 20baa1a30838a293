package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/forcesync/forcesync/emulator"
)

// TestConsoleBrowserOIDC signs in to the console with "Sign in with
// Salesforce" in a real Chromium: the emulator is the OpenID provider
// (discovery, its login and approve pages, the id_token signed with its
// JWKS), serve the relying party.
func TestConsoleBrowserOIDC(t *testing.T) {
	b := newBrowser(t)
	emu, sfURL := startEmulator(t, emulator.Config{})
	cfg := fmt.Sprintf(serveConfig, sfURL) + fmt.Sprintf(`
console:
  oidc:
    name: Salesforce
    issuer: %s
    client_id: forcesync-demo
    client_secret_env: TEST_SF_SECRET
    allowed_domains: [forcesync.local]
`, sfURL)
	s := startServeWith(t, emu, cfg, map[string]string{"FORCESYNC_HOME": t.TempDir()})
	b.mu.Lock()
	b.origin = s.base
	b.mu.Unlock()

	b.run("opening the console", chromedp.Navigate(s.base+"/runs"), chromedp.WaitVisible(chromedp.ID("oidc")))
	if txt := b.text(); !strings.Contains(txt, "Sign in with Salesforce") || strings.Contains(txt, "Password") {
		t.Fatalf("sign-in page with OIDC only:\n%s", txt)
	}
	b.shot("16-sign-in-oidc")
	b.run("signing in with Salesforce", chromedp.Click(chromedp.ID("oidc")), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), "admin@forcesync.local"),
		chromedp.SendKeys(chromedp.ID("password"), "forcesync"),
		chromedp.Click(chromedp.ID("Login")), chromedp.WaitVisible(chromedp.ID("oaapprove")))
	b.run("allowing forcesync", chromedp.Click(chromedp.ID("oaapprove")),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current="page"][href="/runs"]`)))
	if txt := get(b, "reading the header", chromedp.Text(chromedp.CSS("header"))); !strings.Contains(txt, "admin@forcesync.local") {
		t.Fatalf("header after the OIDC sign-in:\n%s", txt)
	}
	b.shot("17-signed-in-oidc")
	// Signing out and in again: the emulator remembers the approval, so
	// the browser comes straight back signed in.
	b.run("signing out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.ID("oidc")))
	b.run("signing in again", chromedp.Click(chromedp.ID("oidc")), chromedp.WaitVisible(chromedp.CSS(`a[aria-current="page"][href="/"]`)))
	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("console errors on the pages:\n%s", strings.Join(p, "\n"))
	}
}
