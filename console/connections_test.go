package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/console"
	"golang.org/x/oauth2"
)

type fakeConnector struct{}

func (fakeConnector) Saved(context.Context) ([]console.ConnectionInfo, error) { return nil, nil }
func (fakeConnector) SaveWebLogin(context.Context, string, string, string, string, *oauth2.Token) (*console.ConnectionInfo, error) {
	return nil, nil
}
func (fakeConnector) Test(context.Context, string) (*console.ConnectionInfo, error) { return nil, nil }

func TestConnectStart(t *testing.T) {
	f := newFixtureWith(t, fakeConnector{})
	ck := f.signIn()
	res := f.do("POST", "/connections/new", url.Values{"name": {"bad name"}, "env": {"custom"}, "login_url": {"http://evil.example"}}, ck, nil)
	page := body(t, res)
	for _, want := range []string{"Use letters, digits", "plain http is allowed only on this machine", "consumer key"} {
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, want) {
			t.Errorf("bad form: %d, want %q in the page", res.StatusCode, want)
		}
	}
	res = f.do("POST", "/connections/new", url.Values{"name": {"prod"}, "env": {"sandbox"}, "client_id": {"KEY"}}, ck, nil)
	page = html.UnescapeString(body(t, res))
	for _, want := range []string{"https://test.salesforce.com/services/oauth2/authorize?", "code_challenge=", "code_challenge_method=S256",
		"client_id=KEY", "redirect_uri=http%3A%2F%2Fexample.com%2Fconnections%2Fcallback", "state="} {
		if res.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("started flow: %d, want %q in:\n%s", res.StatusCode, want, page)
		}
	}
}

func TestConnectFormChecks(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	// Without a Connector (the fixture has none) there is nothing to connect.
	if res := f.do("GET", "/connections/new", nil, ck, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("connect without a connector: %d", res.StatusCode)
	}
	if res := f.do("GET", "/connections", nil, ck, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("connections page: %d", res.StatusCode)
	}
}

func TestConnectCallbackNeedsAStartedFlow(t *testing.T) {
	f := newFixture(t)
	ck := f.signIn()
	res := f.do("GET", "/connections/callback?"+url.Values{"code": {"abc"}, "state": {"forged"}}.Encode(), nil, ck, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body(t, res), "matches no connection started here") {
		t.Fatalf("forged callback: %d", res.StatusCode)
	}
}
