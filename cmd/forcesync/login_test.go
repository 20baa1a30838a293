package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/emulator"
)

var authorizeURLRE = regexp.MustCompile(`https?://\S+/services/oauth2/authorize\?\S+`)

// TestLoginWebServerFlow runs forcesync login end to end: the test plays the
// browser, opening the printed authorize URL (the emulator approves at once)
// and following the redirect to the CLI's loopback callback.
func TestLoginWebServerFlow(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{AutoApprove: true})
	o.env[envClientSecret] = emulator.DemoClientSecret

	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		done <- run(ctx, []string{"login", "--login-url", o.url, "--client-id", emulator.DemoClientID, "--name", "dev"},
			o.getenv, strings.NewReader(""), &stdout, &stderr)
	}()

	// Wait for the URL to be printed (a signal from the command's output).
	var authURL string
	for authURL == "" {
		select {
		case err := <-done:
			t.Fatalf("login ended before printing the URL: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("no authorize URL printed:\n%s", stderr.String())
		case <-time.After(5 * time.Millisecond):
			authURL = authorizeURLRE.FindString(stderr.String())
		}
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Fatalf("authorize URL lacks PKCE or state: %s", authURL)
	}
	if !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
		t.Fatalf("redirect_uri %q is not loopback", q.Get("redirect_uri"))
	}

	// A forged callback with the wrong state is refused and does not end the login.
	bad := q.Get("redirect_uri") + "?code=forged&state=wrong"
	if resp, err := http.Get(bad); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged callback answered %d", resp.StatusCode)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "authorized") {
		t.Fatalf("callback page %d: %s", resp.StatusCode, page)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `saved as connection "dev"`) {
		t.Fatalf("stdout: %s", stdout.String())
	}

	sc, secrets, err := loadConnection(&Env{Getenv: o.getenv}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if sc.AuthMethod != forcesync.AuthWebServer || sc.InstanceURL != o.url || sc.LoginURL != o.url ||
		sc.ClientID != emulator.DemoClientID || sc.Username != emulator.DefaultUsername ||
		len(sc.OrgID) != 18 || len(sc.UserID) != 18 || sc.APIVersion == "" {
		t.Fatalf("saved connection %+v", sc)
	}
	for _, role := range []string{secretRefreshToken, secretAccessToken, secretClientSecret} {
		if secrets[role] == "" {
			t.Errorf("secret %s not saved", role)
		}
		for _, out := range []string{stdout.String(), stderr.String()} {
			if secrets[role] != "" && strings.Contains(out, secrets[role]) {
				t.Errorf("secret %s printed", role)
			}
		}
	}
	raw, _ := os.ReadFile(filepath.Join(o.home, "connections", "dev.json"))
	if strings.Contains(string(raw), secrets[secretRefreshToken]) {
		t.Fatal("refresh token in plain text on disk")
	}
	assertMode(t, filepath.Join(o.home, "connections", "dev.json"), 0o600)

	// The saved connection works, and survives the access token's death:
	// the refresh token renews it and the new token is saved.
	o.emu.ExpireSessions()
	if _, stderr, err := o.runCLI(t, "limits", "--connection", "dev"); err != nil {
		t.Fatalf("limits with the saved connection: %v\n%s", err, stderr)
	}
	_, after, err := loadConnection(&Env{Getenv: o.getenv}, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if after[secretAccessToken] == secrets[secretAccessToken] {
		t.Fatal("renewed access token was not saved")
	}
}

func TestLoginClientCredentials(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.loginClientCredentials(t, "default")
	sc, secrets, err := loadConnection(&Env{Getenv: o.getenv}, "default")
	if err != nil {
		t.Fatal(err)
	}
	if sc.AuthMethod != forcesync.AuthClientCredentials || secrets[secretClientSecret] != emulator.DemoClientSecret || secrets[secretRefreshToken] != "" {
		t.Fatalf("saved %+v", sc)
	}
	// A wrong secret fails and saves nothing.
	o.env[envClientSecret] = "wrong"
	_, _, err = o.runCLI(t, "login", "--client-credentials", "--login-url", o.url, "--client-id", emulator.DemoClientID, "--name", "bad")
	if err == nil {
		t.Fatal("wrong secret accepted")
	}
	if _, err := os.Stat(filepath.Join(o.home, "connections", "bad.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("failed login saved a connection")
	}
}

func TestLoginJWTBearer(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	o := startCLIOrg(t, emulator.Config{ConnectedApps: []emulator.ConnectedApp{{ClientID: "jwt-app", Certificate: string(pubPEM)}}})
	keyFile := filepath.Join(t.TempDir(), "server.key")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)

	if _, stderr, err := o.runCLI(t, "login", "--jwt-key", keyFile, "--username", emulator.DefaultUsername,
		"--client-id", "jwt-app", "--login-url", o.url, "--name", "jwt"); err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	sc, secrets, err := loadConnection(&Env{Getenv: o.getenv}, "jwt")
	if err != nil {
		t.Fatal(err)
	}
	if sc.AuthMethod != forcesync.AuthJWT || !strings.Contains(secrets[secretPrivateKey], "PRIVATE KEY") {
		t.Fatalf("saved %+v", sc)
	}
	// The key file may go away: the key is sealed in the connection.
	os.Remove(keyFile)
	o.emu.ExpireSessions()
	if _, stderr, err := o.runCLI(t, "limits", "--connection", "jwt"); err != nil {
		t.Fatalf("limits after the session ended: %v\n%s", err, stderr)
	}
}

func TestLoginAccessTokenFromEnv(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.loginClientCredentials(t, "cc")
	_, secrets, err := loadConnection(&Env{Getenv: o.getenv}, "cc")
	if err != nil {
		t.Fatal(err)
	}
	o.env[envAccessToken] = secrets[secretAccessToken]
	stdout, stderr, err := o.runCLI(t, "login", "--access-token", "--instance-url", o.url, "--login-url", o.url, "--name", "tok")
	if err != nil {
		t.Fatalf("login: %v\n%s", err, stderr)
	}
	if strings.Contains(stdout+stderr, secrets[secretAccessToken]) {
		t.Fatal("access token printed")
	}
	sc, _, err := loadConnection(&Env{Getenv: o.getenv}, "tok")
	if err != nil || sc.AuthMethod != forcesync.AuthAccessToken {
		t.Fatalf("saved %+v, %v", sc, err)
	}
}

func TestLoginUsageErrors(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	for _, args := range [][]string{
		{"login", "--login-url", "ftp://x", "--client-id", "a"},
		{"login", "--client-credentials", "--jwt-key", "k", "--client-id", "a"},
		{"login", "--login-url", o.url},
		{"login", "--access-token", "--instance-url", o.url},
		{"login", "--name", "../x", "--client-id", "a"},
	} {
		_, _, err := o.runCLI(t, args...)
		if exitCode(err) != 2 {
			t.Errorf("%v: got %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// startWebLogin runs forcesync login (web-server flow) in the background
// and returns the authorize URL it prints.
func startWebLogin(t *testing.T, o *cliOrg, name string) (authURL string, done <-chan error, stderr *syncBuffer) {
	t.Helper()
	var stdout syncBuffer
	stderr = &syncBuffer{}
	ch := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	go func() {
		ch <- run(ctx, []string{"login", "--login-url", o.url, "--client-id", emulator.DemoClientID, "--name", name},
			o.getenv, strings.NewReader(""), &stdout, stderr)
	}()
	for authURL == "" {
		select {
		case err := <-ch:
			t.Fatalf("login ended before printing the URL: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("no authorize URL printed:\n%s", stderr.String())
		case <-time.After(5 * time.Millisecond):
			authURL = authorizeURLRE.FindString(stderr.String())
		}
	}
	return authURL, ch, stderr
}

var hiddenInputRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields reads the hidden inputs of the first form with the given id.
func formFields(t *testing.T, page, id string) url.Values {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no form %q in page:\n%s", id, page)
	}
	rest := page[i:]
	if j := strings.Index(rest, "</form>"); j >= 0 {
		rest = rest[:j]
	}
	v := url.Values{}
	for _, m := range hiddenInputRE.FindAllStringSubmatch(rest, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// browseLoginPage logs in on the emulator's page and answers the approval
// with decision, as a person would; it returns the final page.
func browseLoginPage(t *testing.T, o *cliOrg, authURL, decision string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, page := get(browser.Get(authURL))
	form := formFields(t, page, "login")
	form.Set("username", emulator.DefaultUsername)
	form.Set("password", emulator.DefaultPassword)
	_, page = get(browser.PostForm(o.url+"/services/oauth2/authorize", form))
	form = formFields(t, page, "approve")
	form.Set("decision", decision)
	return get(browser.PostForm(o.url+"/services/oauth2/authorize", form))
}

func TestLoginThroughLoginPage(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	o.env[envClientSecret] = emulator.DemoClientSecret
	authURL, done, stderr := startWebLogin(t, o, "person")
	status, page := browseLoginPage(t, o, authURL, "allow")
	if status != http.StatusOK || !strings.Contains(page, "authorized") {
		t.Fatalf("final page %d: %s", status, page)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s", err, stderr.String())
	}
	if _, stderr, err := o.runCLI(t, "query", "SELECT Username FROM User", "--connection", "person", "--format", "csv"); err != nil {
		t.Fatalf("query with the new connection: %v\n%s", err, stderr)
	}
}

func TestLoginDeniedByUser(t *testing.T) {
	o := startCLIOrg(t, emulator.Config{})
	authURL, done, _ := startWebLogin(t, o, "denied")
	browseLoginPage(t, o, authURL, "deny")
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("denied login: got %v, want access_denied", err)
	}
	if _, err := os.Stat(filepath.Join(o.home, "connections", "denied.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("denied login saved a connection")
	}
}
