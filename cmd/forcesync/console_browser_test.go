package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/forcesync/forcesync/emulator"
	"golang.org/x/crypto/bcrypt"
)

// The browser tests drive Debian's chromium (apt-get install chromium;
// .ci/run installs it) through chromedp against forcesync serve and the
// emulator. Without chromium they skip, saying so.

const consoleAdminPassword = "console-test-password"

// consoleServeConfig is serveConfig plus one console admin (%s: the hash).
const consoleServeConfig = serveConfig + `
console:
  admins:
    - username: admin
      password_hash: '%s'
`

// browser is a headless Chromium tab that records console errors.
type browser struct {
	t   *testing.T
	ctx context.Context
	// origin, when set, keeps only the problems of the console's pages
	// (the emulator's login page is not ours to judge).
	origin   string
	mu       sync.Mutex // guards problems
	problems []string
	shots    string
}

func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("FORCESYNC_BROWSER_TESTS") != "" { // set by .ci/run, which installs chromium
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y --no-install-recommends chromium)")
	}
	t.Skip("browser tests skipped: chromium is not installed (apt-get install -y --no-install-recommends chromium)")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := findChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx, shots: screenshotDir(t)}
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// Every console error or warning, uncaught exception and browser log
	// error (a CSP violation, a failed load) is a problem of the pages.
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				b.problem(m.URL, "%s (%s) %s", m, m.Source, m.URL)
			}
		}
	}()
	return b
}

func (b *browser) problem(url, format string, args ...any) {
	b.mu.Lock()
	if b.origin != "" && url != "" && !strings.HasPrefix(url, b.origin+"/") {
		b.mu.Unlock()
		return
	}
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
	b.mu.Unlock()
}

// takeProblems returns and forgets the console errors seen so far.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > time.Second {
			b.t.Logf("%s took %v", what, d)
		}
	}()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text returns the text of main.
func (b *browser) text() string {
	b.t.Helper()
	return get(b, "reading the page", chromedp.Text(chromedp.CSS("main")))
}

// waitText reloads url until main's text contains want.
func (b *browser) waitText(url, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.run("opening "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main")))
		s := b.text()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q; last:\n%s", url, want, s)
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// shot saves a full-page screenshot under screenshots/console/.
func (b *browser) shot(name string) {
	b.t.Helper()
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// screenshotDir is screenshots/console at the module root (gitignored),
// or $FORCESYNC_SCREENSHOTS.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("FORCESYNC_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "screenshots", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func startConsoleServe(t *testing.T) *served {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(consoleAdminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(consoleServeConfig, sfURL, hash), map[string]string{"FORCESYNC_HOME": t.TempDir()})
	s.emuURL = sfURL
	return s
}

// TestConsoleBrowser signs in, sends records, watches them arrive, opens
// the held one, fixes its data and sees it synced, in a real Chromium.
func TestConsoleBrowser(t *testing.T) {
	b := newBrowser(t)
	s := startConsoleServe(t)
	b.mu.Lock()
	b.origin = s.base
	b.mu.Unlock()

	// Signed out, the console sends the browser to the sign-in page.
	b.run("opening the console", chromedp.Navigate(s.base+"/mappings"), chromedp.WaitVisible(chromedp.ID("username")))
	b.shot("01-sign-in")
	get(b, "turning live updates off", chromedp.Evaluate[any](`localStorage.setItem("forcesync.live", "off")`))
	b.run("signing in",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), consoleAdminPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current="page"][href="/mappings"]`)))
	if txt := b.text(); !strings.Contains(txt, "clients_to_leads") || !strings.Contains(txt, "running") {
		t.Fatalf("mappings page after sign-in:\n%s", txt)
	}

	// Connect an org through the OAuth pages: the console's form, the
	// emulator's login and approve pages, back to the console.
	b.run("opening Connect to Salesforce", chromedp.Navigate(s.base+"/connections/new"), chromedp.WaitVisible(chromedp.ID("client_id")))
	b.run("filling the connect form",
		chromedp.Clear(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "emu"),
		chromedp.Click(chromedp.ID("env-custom")),
		chromedp.SendKeys(chromedp.ID("login_url"), s.emuURL),
		chromedp.SendKeys(chromedp.ID("client_id"), "forcesync-demo"),
		chromedp.SendKeys(chromedp.ID("client_secret"), "forcesync-demo-secret"))
	b.shot("02-connect-form")
	b.run("starting the flow", chromedp.Submit(chromedp.ID("client_id")), chromedp.WaitVisible(chromedp.ID("continue")))
	b.run("signing in at Salesforce", chromedp.Click(chromedp.ID("continue")), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("username"), "admin@forcesync.local"),
		chromedp.SendKeys(chromedp.ID("password"), "forcesync"),
		chromedp.Click(chromedp.ID("Login")), chromedp.WaitVisible(chromedp.ID("oaapprove")))
	b.run("allowing forcesync", chromedp.Click(chromedp.ID("oaapprove")), chromedp.WaitVisible(chromedp.ID("org-id")))
	if txt := b.text(); !strings.Contains(txt, s.emu.OrgID()) || !strings.Contains(txt, "Test passed") || !strings.Contains(txt, "used of") {
		t.Fatalf("connection page after the OAuth flow:\n%s", txt)
	}
	b.shot("03-connection")
	b.waitText(s.base+"/connections", "emu")
	b.shot("04-connections")

	// The application sends three clients; one has a malformed email.
	code, _ := s.do("POST", "/api/v1/sources/client/records", `[
		{"key": "c1", "fields": {"last_name": "Lovelace", "email": "ada@example.com"}},
		{"key": "c2", "fields": {"last_name": "Hopper", "email": "grace@example.com"}},
		{"key": "c3", "fields": {"last_name": "Turing", "email": "alan-at-example.com"}}]`, true)
	if code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	// Watch them arrive: two synced, one held.
	b.waitText(s.base+"/records", "INVALID_EMAIL_ADDRESS")
	txt := b.waitText(s.base+"/records?q=ada%40example.com", "synced")
	if !strings.Contains(txt, "c1") {
		t.Fatalf("search by email:\n%s", txt)
	}
	b.shot("05-records")
	// Create a mapping in the editor: describe-fed fields, the type check,
	// the preview of a sample record, the YAML; save, and serve reloads.
	b.run("opening the editor", chromedp.Navigate(s.base+"/mappings"), chromedp.Click(chromedp.CSS(`a[href="/mappings/new"]`)),
		chromedp.WaitVisible(chromedp.ID("object")))
	b.run("choosing Contact",
		chromedp.SendKeys(chromedp.ID("name"), "clients_to_contacts"),
		chromedp.SetValue(chromedp.ID("object"), "Contact"),
		chromedp.Click(chromedp.ID("check")), chromedp.WaitVisible(chromedp.ID("problems")))
	if txt := b.text(); !strings.Contains(txt, "LastName") {
		t.Fatalf("the first check should offer LastName and report the missing match:\n%s", txt)
	}
	b.shot("09-editor-check")
	b.run("filling the rows",
		chromedp.SetValue(chromedp.ID("match_field"), "Forcesync_Key__c"),
		chromedp.SetValue(chromedp.ID("s0"), "last_name"),
		chromedp.SetValue(chromedp.ID("t1"), "Email"),
		chromedp.SetValue(chromedp.ID("s1"), "email"),
		chromedp.Click(chromedp.ID("check")), chromedp.WaitVisible(chromedp.ID("preview")))
	txt = b.text()
	if strings.Contains(txt, "Type check:") || !strings.Contains(txt, `"LastName": "Lovelace"`) || !strings.Contains(txt, "external_id: Forcesync_Key__c") {
		t.Fatalf("editor after filling the rows:\n%s", txt)
	}
	b.shot("10-editor-preview")
	b.run("saving", chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("saved")))
	if txt := b.text(); !strings.Contains(txt, "serve loaded it") {
		t.Fatalf("after saving:\n%s", txt)
	}
	saved, err := os.ReadFile(s.path)
	if err != nil || !strings.Contains(string(saved), "name: clients_to_contacts") {
		t.Fatalf("the config file after saving (%v):\n%s", err, saved)
	}
	if backups, _ := filepath.Glob(s.path + ".bak-*"); len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	b.waitText(s.base+"/mappings", "clients_to_contacts")
	// A record sent now goes to both mappings.
	if code, _ := s.do("POST", "/api/v1/sources/client/records", `[{"key": "c4", "fields": {"last_name": "Liskov", "email": "barbara@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest after reload: %d", code)
	}
	b.waitText(s.base+"/records?q=c4", "clients_to_contacts")
	deadline := time.Now().Add(30 * time.Second)
	for len(emuRecords(t, s.emuURL, "SELECT Id FROM Contact WHERE Email = 'barbara@example.com'")) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the new mapping never pushed c4 to a Contact")
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}

	b.waitText(s.base+"/", "clients_to_leads")
	b.shot("06-overview")
	b.waitText(s.base+"/mappings", "clients_to_leads")
	b.shot("07-mappings")
	b.waitText(s.base+"/runs", "Run history")
	b.shot("08-runs")
	b.waitText(s.base+"/api", "POST /api/v1/sources/{source}/records")
	b.shot("08-api")

	// The failures page groups the held record with advice.
	txt = b.waitText(s.base+"/failures", "INVALID_EMAIL_ADDRESS in clients_to_leads: 1 record")
	if !strings.Contains(txt, "Correct it in the application") {
		t.Fatalf("failures page lacks advice:\n%s", txt)
	}
	b.run("opening the records of the group", chromedp.Click(chromedp.CSS("details summary")))
	b.shot("11-failures")
	b.run("opening the held record", chromedp.Click(chromedp.CSS(`a[href="/records/client/c3"]`)),
		chromedp.WaitVisible(chromedp.ID("fields")))
	if txt := b.text(); !strings.Contains(txt, "held") || !strings.Contains(txt, "alan-at-example.com") {
		t.Fatalf("held record page:\n%s", txt)
	}
	b.shot("12-held-record")

	// Fix its data in the console and save: it is queued and pushed.
	b.run("fixing the email",
		chromedp.SetValue(chromedp.ID("fields"), `{"last_name": "Turing", "email": "alan@example.com"}`),
		chromedp.Click(chromedp.CSS(`form[action$="/fields"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".banner.ok")))
	txt = b.waitText(s.base+"/records/client/c3", "synced")
	// The old error stays in the record's history, not as its status.
	if n := get(b, "counting error notes", chromedp.Evaluate[int](`document.querySelectorAll("main .problem").length`)); n != 0 ||
		!strings.Contains(txt, "History") {
		t.Fatalf("the fixed record still shows its old error:\n%s", txt)
	}
	// Retry (sync now) of the synced record goes through and it stays synced.
	b.run("sync now", chromedp.Click(chromedp.CSS(`form[action="/retry"] button`)), chromedp.WaitVisible(chromedp.CSS(".banner.ok")))
	b.waitText(s.base+"/records/client/c3", "synced")
	b.shot("13-fixed-record")

	// Salesforce holds all three.
	if recs := emuRecords(t, s.emuURL, "SELECT Id, Email FROM Lead"); len(recs) != 4 {
		t.Fatalf("the emulator holds %d Leads, want 4: %v", len(recs), recs)
	}

	// Readable on a phone.
	b.run("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(s.base+"/records/client/c3"),
		chromedp.WaitVisible(chromedp.CSS("main")))
	b.shot("14-record-phone")
	overflow := get(b, "checking for sideways scroll", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if overflow {
		t.Error("the record page scrolls sideways on a 390 px wide phone")
	}
	b.run("desktop viewport", chromedp.EmulateViewport(1280, 900))

	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("console errors on the pages:\n%s", strings.Join(p, "\n"))
	}
}

// TestConsoleBrowserCrossOrigin: a page on another origin posts a form to
// the console with the admin's cookie; the console refuses it.
func TestConsoleBrowserCrossOrigin(t *testing.T) {
	b := newBrowser(t)
	s := startConsoleServe(t)
	b.mu.Lock()
	b.origin = s.base
	b.mu.Unlock()
	code, _ := s.do("POST", "/api/v1/sources/client/records", `[{"key": "x1", "fields": {"last_name": "X", "email": "bad-email"}}]`, true)
	if code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	b.run("signing in", chromedp.Navigate(s.base+"/login"),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), consoleAdminPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`a[aria-current="page"][href="/"]`)))
	b.waitText(s.base+"/failures", "INVALID_EMAIL_ADDRESS")
	b.takeProblems()

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><form method="post" action="%s/retry">
<input type="hidden" name="group" value="clients_to_leads/INVALID_EMAIL_ADDRESS">
<button id="go" type="submit">win a prize</button></form>`, s.base)
	}))
	t.Cleanup(evil.Close)
	// Another origin: "localhost" instead of 127.0.0.1, another port.
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	b.run("posting from another origin", chromedp.Navigate(evilURL), chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.CSS("main h1")))
	status := b.text()
	if !strings.Contains(status, "came from another site") {
		t.Fatalf("cross-origin post was not refused; the page says:\n%s", status)
	}
	b.shot("15-cross-origin-refused")
	// The record is still held: nothing was requeued.
	_, body := s.do("GET", "/api/v1/sources/client/records/x1", "", true)
	ms, _ := body["mappings"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["state"] != "held" {
		t.Fatalf("after the refused request: %v", body)
	}
	// The refusal shows as a 403 in the browser's log, which is expected here.
	b.takeProblems()
}
