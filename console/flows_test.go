package console_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/secret"
	"golang.org/x/oauth2"
)

// savingConnector keeps the tokens of finished flows.
type savingConnector struct {
	mu    sync.Mutex
	saved map[string]*oauth2.Token
}

func (s *savingConnector) Saved(context.Context) ([]console.ConnectionInfo, error) { return nil, nil }
func (s *savingConnector) SaveWebLogin(_ context.Context, name, login, clientID, secret string, tok *oauth2.Token) (*console.ConnectionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.saved == nil {
		s.saved = map[string]*oauth2.Token{}
	}
	s.saved[name] = tok
	return &console.ConnectionInfo{Name: name, LoginURL: login, ClientID: clientID}, nil
}
func (s *savingConnector) Test(context.Context, string) (*console.ConnectionInfo, error) {
	return nil, nil
}

// newReplica is another console over the fixture's store (a restarted
// serve, or a second replica) sealing flows with key.
func (f *fixture) newReplica(key secret.Key, conn console.Connector) *console.Console {
	f.t.Helper()
	c, err := console.New(console.Config{Store: f.store, Engine: &fakeEngine{}, Now: f.clk.Now, Admins: f.admins, Connector: conn,
		SealKey: func() (secret.Key, error) { return key, nil }})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

var authorizeHref = regexp.MustCompile(`href="(http[^"]*/services/oauth2/authorize\?[^"]*)"`)

// TestConnectFlowInTheStore: "Connect to Salesforce" started on one
// console is finished by another over the same store (a restart, or a
// replica behind the same load balancer), against the emulator over real
// HTTP; a callback is answered once; a replica with another key cannot
// read the flow, and an expired flow is refused.
func TestConnectFlowInTheStore(t *testing.T) {
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	t.Cleanup(sf.Close)
	f := newFixture(t)
	key, err := secret.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	first, second := &savingConnector{}, &savingConnector{}
	a := f.newReplica(key, first)
	b := f.newReplica(key, second)
	ck := f.signIn()
	base := "http://127.0.0.1:8080" // the browser's view of the console; the emulator allows loopback callbacks

	// start begins a flow on c and has the emulator approve it; it returns
	// the callback's query (code and state).
	start := func(c *console.Console, name string) url.Values {
		t.Helper()
		f.c = c
		res := f.do("POST", base+"/connections/new", url.Values{"name": {name}, "env": {"custom"}, "login_url": {sf.URL},
			"client_id": {emulator.DemoClientID}, "client_secret": {emulator.DemoClientSecret}}, ck, nil)
		page := body(t, res)
		m := authorizeHref.FindStringSubmatch(page)
		if res.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("starting the flow: %d\n%s", res.StatusCode, page)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		ar, err := client.Get(html.UnescapeString(m[1]) + "&auto_approve=true")
		if err != nil {
			t.Fatal(err)
		}
		ar.Body.Close()
		loc, err := url.Parse(ar.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" || !strings.HasPrefix(loc.String(), base+"/connections/callback?") {
			t.Fatalf("the emulator answered %d %q", ar.StatusCode, ar.Header.Get("Location"))
		}
		return loc.Query()
	}
	callback := func(c *console.Console, q url.Values) *http.Response {
		t.Helper()
		f.c = c
		return f.do("GET", base+"/connections/callback?"+q.Encode(), nil, ck, nil)
	}

	q := start(a, "emu")
	res := callback(b, q) // the other replica finishes it
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/connections/emu?done=connected" {
		t.Fatalf("finishing on the other replica: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	tok := second.saved["emu"]
	if tok == nil || tok.AccessToken == "" || tok.RefreshToken == "" || len(first.saved) != 0 {
		t.Fatalf("saved tokens: first %v, second %v", first.saved, second.saved)
	}
	// The token is the emulator's: userinfo answers with it.
	req, _ := http.NewRequest("GET", sf.URL+"/services/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if ui, err := http.DefaultClient.Do(req); err != nil || ui.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the saved token: %v %v", ui, err)
	}
	// The same callback again, on either replica: refused, nothing saved.
	for _, c := range []*console.Console{a, b} {
		if res := callback(c, q); res.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, res), "matches no connection started here") {
			t.Fatalf("a replayed callback: %d", res.StatusCode)
		}
	}

	// A replica with another key cannot open the flow: it says so, and the
	// flow is gone (taken once).
	other, _ := secret.NewKey()
	q = start(a, "emu2")
	res = callback(f.newReplica(other, second), q)
	if page := body(t, res); res.StatusCode != http.StatusInternalServerError || !strings.Contains(page, "key") {
		t.Fatalf("a replica with another key: %d\n%s", res.StatusCode, page)
	}
	if res := callback(a, q); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the flow survived a failed take: %d", res.StatusCode)
	}

	// A flow older than ten minutes is refused.
	q = start(a, "emu3")
	f.clk.Advance(10*time.Minute + time.Second)
	ck = f.signIn()
	if res := callback(b, q); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an expired flow: %d", res.StatusCode)
	}
	if second.saved["emu2"] != nil || second.saved["emu3"] != nil {
		t.Fatalf("a refused flow saved a connection: %v", second.saved)
	}
}
