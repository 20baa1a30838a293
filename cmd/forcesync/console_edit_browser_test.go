package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
	"golang.org/x/crypto/bcrypt"
)

// signIn signs the browser in as the console's admin.
func (b *browser) signIn(base string) {
	b.t.Helper()
	b.run("signing in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("username")))
	get(b, "turning live updates off", chromedp.Evaluate[any](`localStorage.setItem("forcesync.live", "off")`))
	b.run("signing in",
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), consoleAdminPassword),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`nav`)))
}

// unlabelled lists the form controls of the page that have neither a
// label nor an aria-label: every control must be named for a screen
// reader.
func (b *browser) unlabelled() []string {
	b.t.Helper()
	return get(b, "looking for unlabelled controls", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(
		'input:not([type=hidden]), select, textarea, button')).filter(function (e) {
		return !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent.trim());
	}).map(function (e) { return e.id || e.name || e.tagName; })`))
}

// page opens url, checks that every control is labelled and saves a
// screenshot; it returns main's text.
func (b *browser) page(url, shot string, wait string) string {
	b.t.Helper()
	txt := b.waitText(url, wait)
	if bad := b.unlabelled(); len(bad) > 0 {
		b.t.Errorf("%s: controls without a label: %v", url, bad)
	}
	b.shot(shot)
	return txt
}

// TestConsoleBrowserEditMapping opens an existing mapping in the editor,
// changes a row to fallbacks, sees the type check, the preview of the
// held record and the plan (the held record comes back), saves, and sees
// the file and the running serve take it while work queued behind a
// Salesforce outage survives the reload. Then the record's history, and
// the plan, reconcile, guard (approve by keyboard) and pull pages.
func TestConsoleBrowserEditMapping(t *testing.T) {
	b := newBrowser(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(consoleAdminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	emu, sfURL := startEmulator(t, emulator.Config{})
	// The guard pauses the second delete in an hour; the editor must keep
	// this key, which it does not manage.
	cfg := strings.Replace(fmt.Sprintf(consoleServeConfig, sfURL, hash), "    operations:\n", "    guard: {max_records: 1}\n    operations:\n", 1)
	s := startServeWith(t, emu, cfg, map[string]string{"FORCESYNC_HOME": t.TempDir()})
	s.emuURL = sfURL
	b.mu.Lock()
	b.origin = s.base
	b.mu.Unlock()
	b.signIn(s.base)

	// c1 and c2 sync; c3's email is refused, but it has a work email.
	if code, _ := s.do("POST", "/api/v1/sources/client/records", `[
		{"key": "c1", "fields": {"last_name": "Lovelace", "email": "ada@example.com"}},
		{"key": "c2", "fields": {"last_name": "Hopper", "email": "grace@example.com"}},
		{"key": "c3", "fields": {"last_name": "Turing", "email": "alan-at-example.com", "work_email": "alan@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	s.waitState("c1", "synced")
	s.waitState("c2", "synced")
	s.waitState("c3", "held")

	// Salesforce locks every row for a while: c7 waits in the outbox,
	// retrying, across the reload the save makes.
	if _, err := emu.AddFault(emulator.Fault{Type: emulator.FaultLockRow, Method: "PATCH", Path: "/services/data/*/composite/sobjects/**"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := s.do("POST", "/api/v1/sources/client/records", `[{"key": "c7", "fields": {"last_name": "Liskov", "email": "barbara@example.com"}}]`, true); code != http.StatusAccepted {
		t.Fatalf("ingest c7: %d", code)
	}
	s.waitState("c7", "retrying")

	// Open the mapping from the mappings page: the file's rows, checked,
	// previewed and planned at once.
	b.run("opening the mapping", chromedp.Navigate(s.base+"/mappings"), chromedp.Click(chromedp.ID("edit-clients_to_leads")),
		chromedp.WaitVisible(chromedp.ID("yaml")))
	txt := b.text()
	for _, want := range []string{"Type check passed", "Edit mapping clients_to_leads", "guard:", "Trading Clients"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("the editor lacks %q:\n%s", want, txt)
		}
	}
	if kind := get(b, "reading row 1's kind", chromedp.Evaluate[string](`document.getElementById("k1").value`)); kind != "value" {
		t.Fatalf("the Company row loaded as %q, want a constant", kind)
	}
	if on := get(b, "reading row 1's when", chromedp.Evaluate[string](`document.getElementById("o1").value`)); on != "create" {
		t.Fatalf("the Company row loaded with on %q, want create", on)
	}
	if bad := b.unlabelled(); len(bad) > 0 {
		t.Errorf("editor: controls without a label: %v", bad)
	}
	b.shot("16-editor-open")

	// A wrong row first: the type check names it.
	b.run("typing a wrong expression",
		chromedp.SetValue(chromedp.ID("k2"), "expr"),
		chromedp.SetValue(chromedp.ID("s2"), "email +"),
		chromedp.Click(chromedp.ID("check")), chromedp.WaitVisible(chromedp.ID("problems")))
	if txt := b.text(); !strings.Contains(txt, "invalid expression") {
		t.Fatalf("a broken expression passed the check:\n%s", txt)
	}
	// Email becomes the first non-empty of work_email and email; preview c3.
	b.run("changing the Email row",
		chromedp.SetValue(chromedp.ID("k2"), "first_of"),
		chromedp.SetValue(chromedp.ID("s2"), "work_email, email"),
		chromedp.SetValue(chromedp.ID("sample"), "c3"),
		chromedp.Click(chromedp.ID("check")), chromedp.WaitVisible(chromedp.ID("preview")))
	txt = b.text()
	// Live: choosing another sample re-checks without a page load.
	// The script is deferred: wait until it listens before changing.
	b.run("choosing c1", chromedp.WaitVisible(chromedp.CSS(`#editor[data-live]`)), chromedp.SetValue(chromedp.ID("sample"), "c1"))
	get(b, "signalling the change", chromedp.Evaluate[any](`document.getElementById("sample").dispatchEvent(new Event("change", {bubbles: true})); null`))
	lctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(lctx, chromedp.WaitVisible(chromedp.CSS(`#editor[data-checked]`))); err != nil {
		t.Fatalf("the live check never answered: %v; browser problems: %v", err, b.takeProblems())
	}
	if live := b.text(); !strings.Contains(live, `"Email": "ada@example.com"`) || !strings.Contains(live, "Type check passed") {
		t.Fatalf("the live check did not preview c1:\n%s", live)
	}
	for _, want := range []string{"Type check passed", `"Email": "alan@example.com"`, "first_of: [work_email, email]",
		"the mapping changed, so its 1 held records are tried again"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("the editor after the change lacks %q:\n%s", want, txt)
		}
	}
	b.shot("17-editor-change-plan")

	b.run("saving", chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.ID("saved")))
	if txt := b.text(); !strings.Contains(txt, "serve loaded it") {
		t.Fatalf("after saving:\n%s", txt)
	}
	saved, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"first_of: [work_email, email]", "guard: {max_records: 1}", "delete: delete", "value: Trading Clients"} {
		if !strings.Contains(string(saved), want) {
			t.Fatalf("the saved config lacks %q:\n%s", want, saved)
		}
	}
	// Salesforce answers again: the queued c7 and the held c3 both arrive
	// under the new mapping.
	emu.ClearFaults()
	s.waitState("c7", "synced")
	s.waitState("c3", "synced")
	if recs := emuRecords(t, sfURL, "SELECT Id FROM Lead WHERE Email = 'alan@example.com'"); len(recs) != 1 {
		t.Fatalf("c3 did not arrive with its work email: %v", recs)
	}
	if recs := emuRecords(t, sfURL, "SELECT Id FROM Lead WHERE Email = 'barbara@example.com'"); len(recs) != 1 {
		t.Fatalf("the queued c7 was lost: %v", recs)
	}

	// c7's history: the row-lock retries, then the push that went through.
	txt = b.page(s.base+"/records/client/c7", "18-record-history", "UNABLE_TO_LOCK_ROW")
	if !strings.Contains(txt, "History") || !strings.Contains(txt, "retrying") || !strings.Contains(txt, "synced") {
		t.Fatalf("c7's history:\n%s", txt)
	}
	_, hist := s.do("GET", "/api/v1/sources/client/records/c3/history", "", true)
	atts, _ := hist["attempts"].([]any)
	if len(atts) < 2 || atts[0].(map[string]any)["state"] != "synced" || atts[len(atts)-1].(map[string]any)["error"].(map[string]any)["code"] != "INVALID_EMAIL_ADDRESS" {
		t.Fatalf("c3's history from the API: %v", hist)
	}

	// The plan of every mapping: nothing queued now.
	txt = b.page(s.base+"/plan", "19-plan", "clients_to_leads")
	if !strings.Contains(txt, "0 records queued") {
		t.Fatalf("plan page:\n%s", txt)
	}
	// A Lead edited in Salesforce: reconcile finds it.
	recs := emuRecords(t, sfURL, "SELECT Id FROM Lead WHERE Email = 'ada@example.com'")
	if len(recs) != 1 {
		t.Fatalf("c1's Lead: %v", recs)
	}
	emuUpdate(t, sfURL, "Lead", fmt.Sprint(recs[0]["Id"]), map[string]any{"LastName": "Byron"})
	b.page(s.base+"/reconcile", "20-reconcile", "No reconcile has run yet")
	b.run("reconciling", chromedp.Click(chromedp.ID("reconcile-go")), chromedp.WaitVisible(chromedp.ID("finding-counts")))
	if txt := b.text(); !strings.Contains(txt, "field_changed: 1") || !strings.Contains(txt, "Byron") {
		t.Fatalf("reconcile run page:\n%s", txt)
	}
	b.shot("21-reconcile-run")

	// Two deletes pass the guard's limit of one: the second is held
	// until an admin approves it, here with the keyboard.
	if code, _ := s.do("POST", "/api/v1/sources/client/records", `[{"key": "c1", "op": "delete"}, {"key": "c2", "op": "delete"}]`, true); code != http.StatusAccepted {
		t.Fatalf("deletes: %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, a := s.do("GET", "/api/v1/sources/client/records/c1", "", true)
		_, b2 := s.do("GET", "/api/v1/sources/client/records/c2", "", true)
		if strings.Contains(fmt.Sprint(a, b2), forcesync.CodeMassChangePaused) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the guard never held a delete: %v %v", a, b2)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
	b.page(s.base+"/guard", "22-guard-paused", "paused")
	b.run("approving by keyboard", chromedp.Focus(chromedp.ID("approve-clients_to_leads")), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(".banner.ok")))
	if txt := b.text(); !strings.Contains(txt, "Approved clients_to_leads:") || !strings.Contains(txt, "held records were queued again") {
		t.Fatalf("after approving:\n%s", txt)
	}
	s.waitState("c1", "deleted")
	s.waitState("c2", "deleted")
	b.shot("23-guard-approved")

	txt = b.page(s.base+"/pull", "24-pull", "Conflicts of a record")
	if !strings.Contains(txt, "No mapping pulls from Salesforce") {
		t.Fatalf("pull page:\n%s", txt)
	}
	if p := b.takeProblems(); len(p) > 0 {
		t.Errorf("console errors on the pages:\n%s", strings.Join(p, "\n"))
	}
}

// emuUpdate edits a record in the emulator as someone in Salesforce would.
func emuUpdate(t *testing.T, loginURL, object, id string, fields map[string]any) {
	t.Helper()
	if err := emuClient(t, loginURL).Update(context.Background(), object, id, salesforce.Record(fields)); err != nil {
		t.Fatal(err)
	}
}
