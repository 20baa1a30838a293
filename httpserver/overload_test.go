package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/sqlite"
)

type fakeEngine struct{}

func (fakeEngine) MappingsFor(string) []string { return []string{"clients_to_leads"} }
func (fakeEngine) Notify()                     {}
func (fakeEngine) Paused() string              { return "" }

const tok = "t0ken"

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "fs.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func post(t *testing.T, url, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/sources/client/records", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func records(from, n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := from; i < from+n; i++ {
		if i > from {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"key":"k%d","fields":{"last_name":"L%d"}}`, i, i)
	}
	return b.String() + "]"
}

// TestIngestRefusesPastBacklog checks that once a mapping's backlog reaches
// max_backlog, ingest answers 429 with Retry-After naming the mapping,
// instead of queueing without bound; changes accepted since the last count
// are counted too.
func TestIngestRefusesPastBacklog(t *testing.T) {
	st := newStore(t)
	srv := httptest.NewServer(httpserver.New(httpserver.Config{Store: st, Engine: fakeEngine{}, Sources: []string{"client"},
		APIToken: tok, MaxBacklog: 3}))
	defer srv.Close()
	if resp, body := post(t, srv.URL, "application/json", records(0, 3)); resp.StatusCode != 202 {
		t.Fatalf("first body: %d %s", resp.StatusCode, body)
	}
	resp, body := post(t, srv.URL, "application/json", records(3, 1))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "clients_to_leads has 3 changes waiting") {
		t.Fatalf("past the backlog: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n, _ := st.Backlog(context.Background(), "clients_to_leads"); n != 3 {
		t.Fatalf("backlog %d after a refused body", n)
	}
}

// blockingStore holds Accept until released, as a store stuck on a lock does.
type blockingStore struct {
	forcesync.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingStore) Accept(ctx context.Context, mappings []string, cs []forcesync.Change) ([]forcesync.AcceptResult, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Store.Accept(ctx, mappings, cs)
}

// TestIngestSlowStoreAnswers503 checks that when the store's write turns are
// all taken for longer than the wait, ingest answers 503 with Retry-After
// rather than queueing, and the held call still completes.
func TestIngestSlowStoreAnswers503(t *testing.T) {
	st := &blockingStore{Store: newStore(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv := httptest.NewServer(httpserver.New(httpserver.Config{Store: st, Engine: fakeEngine{}, Sources: []string{"client"},
		APIToken: tok, MaxAccepts: 1, AcceptWait: 20 * time.Millisecond}))
	defer srv.Close()
	first := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/sources/client/records", strings.NewReader(records(0, 1)))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-st.entered
	resp, body := post(t, srv.URL, "", records(1, 1))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "store is busy") {
		t.Errorf("while the store is stuck: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	close(st.release)
	if code := <-first; code != 202 {
		t.Fatalf("held call: %d", code)
	}
}

// TestIngestRefusesOtherMediaTypes checks a body declared as something other
// than JSON or NDJSON is a 415 naming the type; JSON, NDJSON (with
// parameters) and no Content-Type are read.
func TestIngestRefusesOtherMediaTypes(t *testing.T) {
	srv := httptest.NewServer(httpserver.New(httpserver.Config{Store: newStore(t), Engine: fakeEngine{}, Sources: []string{"client"}, APIToken: tok}))
	defer srv.Close()
	for i, tc := range []struct {
		ct   string
		want int
	}{
		{"application/x-www-form-urlencoded", 415},
		{"text/csv", 415},
		{"application/xml", 415},
		{"not a media type;;", 415},
		{"application/json", 202},
		{"application/json; charset=utf-8", 202},
		{"application/x-ndjson", 202},
		{"", 202},
	} {
		resp, body := post(t, srv.URL, tc.ct, records(i, 1))
		if resp.StatusCode != tc.want || tc.want == 415 && !strings.Contains(body, tc.ct) {
			t.Errorf("Content-Type %q: %d %s, want %d", tc.ct, resp.StatusCode, body, tc.want)
		}
	}
}

// TestIngestRefusesFreezingVersions checks a version that would freeze its
// key (MaxInt64, or over forcesync.MaxVersion) is a problem naming the field,
// while MaxVersion itself is accepted.
func TestIngestRefusesFreezingVersions(t *testing.T) {
	body := fmt.Sprintf(`[{"key":"a","version":9223372036854775807,"fields":{}},{"key":"b","version":%d,"fields":{}},{"key":"c","version":%d,"fields":{}}]`,
		forcesync.MaxVersion+1, forcesync.MaxVersion)
	cs, probs, err := httpserver.DecodeIngest(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Key != "c" || len(probs) != 2 {
		t.Fatalf("changes %+v problems %+v", cs, probs)
	}
	for _, p := range probs {
		if p.Field != "version" || !strings.Contains(p.Error, "ceiling") {
			t.Errorf("problem %+v", p)
		}
	}
}

// TestServerTimeouts checks the server built by HTTPServer drops a client
// that stalls in the middle of its body instead of holding the connection
// for ever, and that every timeout has a default.
func TestServerTimeouts(t *testing.T) {
	def := httpserver.New(httpserver.Config{Engine: fakeEngine{}}).HTTPServer()
	if def.ReadHeaderTimeout <= 0 || def.ReadTimeout <= 0 || def.WriteTimeout <= 0 || def.IdleTimeout <= 0 {
		t.Fatalf("default timeouts %v %v %v %v", def.ReadHeaderTimeout, def.ReadTimeout, def.WriteTimeout, def.IdleTimeout)
	}
	hs := httpserver.New(httpserver.Config{Store: newStore(t), Engine: fakeEngine{}, Sources: []string{"client"}, APIToken: tok,
		Timeouts: httpserver.Timeouts{Read: 100 * time.Millisecond}}).HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/sources/client/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n[{\"key\":", tok)
	// The server must end the exchange by itself; the deadline only keeps
	// a broken server from hanging the test.
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(bufio.NewReader(c))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a stalled upload open")
	}
}
