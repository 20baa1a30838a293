package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"golang.org/x/crypto/bcrypt"
)

// The console's own browser tests drive Debian's chromium through
// chromedp against the console alone (the end-to-end ones, through
// serve and the emulator, are cmd/forcesync's TestConsoleBrowser*).
// Without chromium they skip, unless FORCESYNC_BROWSER_TESTS is set.

func newChromium(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("FORCESYNC_BROWSER_TESTS") != "" {
			t.Fatal("chromium is not installed (apt-get install -y --no-install-recommends chromium)")
		}
		t.Skip("browser test skipped: chromium is not installed")
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1280, 900))
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first run starts the browser: no timeout on it (one would stop
	// the browser with it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestPagesFitAPhone: on a 390 px wide phone no page scrolls sideways
// (wide tables scroll inside their own box), as docs/console.md says;
// the guard's table (its last column's hidden header) and the API page's
// long paths widened the page.
func TestPagesFitAPhone(t *testing.T) {
	f := newFixture(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// The REST API's longest paths, as its OpenAPI document has them.
	openAPI := `{"openapi": "3.1.0", "info": {"title": "forcesync", "summary": "s", "description": "d"}, "paths": {
		"/api/v1/sources/{source}/records/{key}/history": {"get": {"operationId": "history", "summary": "A record's attempts", "responses": {"200": {"description": "ok"}}}},
		"/api/v1/mappings/{mapping}/reconcile": {"post": {"operationId": "reconcile", "summary": "Reconcile", "responses": {"200": {"description": "ok"}}}}}}`
	if f.c, err = console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now,
		Admins: []console.Admin{{Username: "alice", PasswordHash: string(hash)}}, Sources: []console.Source{{Name: "contact"}},
		Mappings:    []forcesync.Mapping{{Name: "leads", Source: "contact", Object: "Lead", Connection: "org"}},
		Connections: []forcesync.Connection{{Name: "org"}}, OpenAPI: []byte(openAPI)}); err != nil {
		t.Fatal(err)
	}
	f.held("k1", "bad")
	if _, _, err := f.store.GuardTake(context.Background(), forcesync.GuardRequest{Name: "leads", N: 5, Limit: 2, Window: time.Hour, Now: f.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.c.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	ctx := newChromium(t)
	browse(t, ctx, "signing in", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("nav")))
	browse(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []string{"/", "/records", "/records/contact/k1", "/failures", "/guard", "/api", "/runs", "/reconcile"} {
		browse(t, ctx, "opening "+p, chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(chromedp.CSS("main")))
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			if (document.documentElement.scrollWidth <= 390) return "";
			const out = [];
			for (const e of document.querySelectorAll("main *")) {
				const r = e.getBoundingClientRect();
				if (r.right > 390) out.push(e.tagName + " " + (e.className || "") + " ends at " + Math.round(r.right));
			}
			return document.documentElement.scrollWidth + " px wide: " + out.slice(0, 5).join("; ");
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if wide != "" {
			t.Errorf("%s scrolls sideways on a 390 px phone: %s", p, strings.TrimSpace(wide))
		}
	}
}
