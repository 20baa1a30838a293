package salesforce

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if json.Indent(&pretty, got, "", "  ") == nil {
		got = append(pretty.Bytes(), '\n')
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// recorder is a fake org answering collection and composite calls and
// keeping request bodies.
type recorder struct {
	mu     sync.Mutex
	bodies map[string][]byte
	urls   []string
}

func (r *recorder) handler(f *fakeOrg) {
	keep := func(key string, req *http.Request) []byte {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies[key] = b
		r.urls = append(r.urls, req.URL.String())
		return b
	}
	answerRecords := func(w http.ResponseWriter, b []byte, created bool) {
		var in struct{ Records []Record }
		json.Unmarshal(b, &in)
		out := make([]map[string]any, len(in.Records))
		for i := range out {
			out[i] = map[string]any{"id": "00Q5e00000000" + string(rune('A'+i)) + "AAAAA", "success": true, "errors": []any{}, "created": created}
		}
		json.NewEncoder(w).Encode(out)
	}
	f.handle("POST /services/data/v67.0/composite/sobjects", func(w http.ResponseWriter, req *http.Request) {
		answerRecords(w, keep("create", req), true)
	})
	f.handle("PATCH /services/data/v67.0/composite/sobjects/Lead/Ext_Id__c", func(w http.ResponseWriter, req *http.Request) {
		answerRecords(w, keep("upsert", req), false)
	})
	f.handle("POST /services/data/v67.0/composite", func(w http.ResponseWriter, req *http.Request) {
		keep("composite", req)
		// Answer out of order, as collation may.
		io.WriteString(w, `{"compositeResponse":[
			{"body":{"id":"0035e000000001AAAA","success":true,"errors":[]},"httpHeaders":{},"httpStatusCode":201,"referenceId":"refCt"},
			{"body":{"id":"0015e000000001AAAA","success":true,"errors":[]},"httpHeaders":{"Location":"/services/data/v67.0/sobjects/Account/0015e000000001AAAA"},"httpStatusCode":201,"referenceId":"refAcct"}]}`)
	})
}

func TestRequestBodiesGolden(t *testing.T) {
	f := newFakeOrg(t)
	rec := &recorder{bodies: map[string][]byte{}}
	rec.handler(f)
	c := f.client(t, nil)
	ctx := context.Background()
	at := time.Date(2024, 5, 1, 12, 34, 56, 0, time.UTC)
	_, err := c.CreateMany(ctx, "Lead", []Record{
		{"LastName": "O'Brien", "Company": "Acme \"Quotes\"", "NumberOfEmployees": 12, "HasOptedOutOfEmail": true, "Email": nil},
		{"LastName": "Ünïcode ☃", "Company": "<html>&", "attributes": map[string]any{"type": "Ignored"}},
		{},
	}, &CollectionOptions{AllOrNone: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpsertMany(ctx, "Lead", "Ext_Id__c", []Record{
		{"Ext_Id__c": "wp-1", "LastName": "A", "Company": "B", "LastSeen__c": at.Format(time.RFC3339)},
		{"Ext_Id__c": "wp-2", "LastName": "C", "Company": "D"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Composite(ctx, CompositeRequest{Requests: []Subrequest{
		{Method: "POST", URL: "sobjects/Account", ReferenceID: "refAcct", Body: Record{"Name": "Acme"}},
		{Method: "POST", URL: "sobjects/Contact", ReferenceID: "refCt", Body: Record{"LastName": "Doe", "AccountId": Ref("refAcct", "id")},
			HTTPHeaders: map[string]string{"Sforce-Auto-Assign": "FALSE"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ReferenceID != "refAcct" || res[1].ReferenceID != "refCt" || res[0].HTTPHeaders["Location"] == "" {
		t.Fatalf("composite results not in request order: %+v", res)
	}
	golden(t, "collections_create", rec.bodies["create"])
	golden(t, "collections_upsert", rec.bodies["upsert"])
	golden(t, "composite", rec.bodies["composite"])
}

func TestJWTAssertion(t *testing.T) {
	key := testKey()
	now := time.Unix(1_718_000_000, 0)
	cases := []struct{ login, aud string }{
		{ProductionLoginURL, ProductionLoginURL},
		{SandboxLoginURL + "/", SandboxLoginURL},
		{"https://acme.my.salesforce.com", ProductionLoginURL},
		{"https://acme--uat.sandbox.my.salesforce.com", SandboxLoginURL},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
	}
	for _, c := range cases {
		a, err := JWTBearer{ClientID: "3MVG9.key", Username: "u@x.com", PrivateKey: key, Expires: time.Hour}.Assertion(c.login, now)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(a, ".")
		if len(parts) != 3 {
			t.Fatalf("assertion %q", a)
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		body, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Fatalf("signature: %v", err)
		}
		var claims map[string]any
		json.Unmarshal(body, &claims)
		if !strings.Contains(string(hdr), `"RS256"`) || claims["iss"] != "3MVG9.key" || claims["sub"] != "u@x.com" || claims["aud"] != c.aud {
			t.Fatalf("%s: header %s claims %v", c.login, hdr, claims)
		}
		if exp := int64(claims["exp"].(float64)); exp != now.Add(3*time.Minute).Unix() {
			t.Fatalf("exp %d: want now+3m in seconds (capped)", exp)
		}
	}
	if _, err := (JWTBearer{ClientID: "x", Username: "y", PrivateKeyPEM: []byte("nope")}).Assertion(ProductionLoginURL, now); err == nil {
		t.Fatal("bad PEM accepted")
	}
}

func TestRetryPolicy(t *testing.T) {
	f := newFakeOrg(t)
	var delays []time.Duration
	var dmu sync.Mutex
	c := f.client(t, func(cfg *Config) {
		cfg.Retry = RetryPolicy{
			MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond,
			Rand: func() float64 { return 0.5 },
			Sleep: func(ctx context.Context, d time.Duration) error {
				dmu.Lock()
				delays = append(delays, d)
				dmu.Unlock()
				return ctx.Err()
			},
		}
	})
	var n atomic.Int64
	f.handle("GET /services/data/v67.0/limits", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) < 4 {
			w.WriteHeader(500)
			io.WriteString(w, `[{"errorCode":"UNKNOWN_EXCEPTION","message":"boom"}]`)
			return
		}
		io.WriteString(w, `{}`)
	})
	if _, err := c.Limits(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 100ms, 200ms, 300ms (capped), each with half jitter at rand 0.5.
	want := []time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 225 * time.Millisecond}
	if len(delays) != 3 || delays[0] != want[0] || delays[1] != want[1] || delays[2] != want[2] {
		t.Fatalf("delays %v, want %v", delays, want)
	}

	// Exhausted attempts return the last error.
	n.Store(-10)
	delays = nil
	_, err := c.Limits(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || len(delays) != 3 {
		t.Fatalf("err %v after %d delays", err, len(delays))
	}

	// WithoutRetries tries once and returns the retryable error.
	n.Store(-10)
	delays = nil
	if _, err := c.Limits(WithoutRetries(context.Background())); !errors.As(err, &ae) || ae.Status != 500 || len(delays) != 0 || n.Load() != -9 {
		t.Fatalf("without retries: err %v after %d delays, %d calls", err, len(delays), n.Load()+10)
	}

	// A canceled context stops the backoff at once.
	n.Store(-10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Limits(ctx); err == nil {
		t.Fatal("canceled call succeeded")
	}
}

func TestPOSTRetrySafety(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	var posts atomic.Int64
	status := atomic.Int64{}
	f.handle("POST /services/data/v67.0/sobjects/Lead", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		if s := status.Load(); s != 0 {
			status.Store(0)
			w.WriteHeader(int(s))
			io.WriteString(w, `[{"errorCode":"UNKNOWN_EXCEPTION","message":"An unexpected error occurred."}]`)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"00Q5e00000000AAEAY","success":true,"errors":[]}`)
	})
	// 500 after a create may have committed: not retried.
	status.Store(500)
	if _, err := c.Create(context.Background(), "Lead", Record{"LastName": "x"}); err == nil || posts.Load() != 1 {
		t.Fatalf("create after 500: %v, %d posts", err, posts.Load())
	}
	// 503 proves nothing was done: retried.
	posts.Store(0)
	status.Store(503)
	if id, err := c.Create(context.Background(), "Lead", Record{"LastName": "x"}); err != nil || id == "" || posts.Load() != 2 {
		t.Fatalf("create after 503: %v, %d posts", err, posts.Load())
	}
	// A refused connection (nothing sent) is retried even for a POST.
	if !provesNotCommitted(&net.OpError{Op: "dial", Err: errors.New("connection refused")}) {
		t.Fatal("dial errors prove nothing was sent")
	}
	if provesNotCommitted(&net.OpError{Op: "read", Err: errors.New("connection reset")}) {
		t.Fatal("a read error after sending proves nothing")
	}
}

func TestQueryPagingWithFake(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, nil)
	var gotQ, gotOpts string
	f.handle("GET /services/data/v67.0/query", func(w http.ResponseWriter, r *http.Request) {
		gotQ, gotOpts = r.URL.Query().Get("q"), r.Header.Get("Sforce-Query-Options")
		io.WriteString(w, `{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v67.0/query/01gXX-2","records":[{"Id":"a"},{"Id":"b"}]}`)
	})
	f.handle("GET /services/data/v67.0/query/01gXX-2", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"totalSize":3,"done":true,"records":[{"Id":"c"}]}`)
	})
	var ids []string
	rows := c.Query(context.Background(), "SELECT Id FROM Lead WHERE Name = 'a&b'", &QueryOptions{BatchSize: 50})
	for rows.Next() {
		ids = append(ids, rows.Record().ID())
	}
	if rows.Err() != nil || strings.Join(ids, ",") != "a,b,c" || gotQ != "SELECT Id FROM Lead WHERE Name = 'a&b'" || gotOpts != "batchSize=200" {
		t.Fatalf("ids %v err %v q %q opts %q", ids, rows.Err(), gotQ, gotOpts)
	}
	// Breaking out of the range stops fetching.
	for rec := range c.Query(context.Background(), "SELECT Id FROM Lead", nil).All() {
		if rec.ID() != "a" {
			t.Fatal(rec)
		}
		break
	}
}

func TestCollectionChunkFailure(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
	var calls atomic.Int64
	f.handle("POST /services/data/v67.0/composite/sobjects", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Records []Record }
		json.NewDecoder(r.Body).Decode(&in)
		if calls.Add(1) == 2 {
			w.WriteHeader(500)
			io.WriteString(w, `<html>oops</html>`)
			return
		}
		out := make([]map[string]any, len(in.Records))
		for i := range out {
			out[i] = map[string]any{"id": "00Q5e00000000AAEAY", "success": true, "errors": []any{}}
		}
		json.NewEncoder(w).Encode(out)
	})
	res, err := c.CreateMany(context.Background(), "Lead", leads(5, nil), &CollectionOptions{ChunkSize: 2})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Body == "" {
		t.Fatalf("err %v", err)
	}
	if len(res) != 5 || !res[0].Success || res[2].Err == nil || res[3].Err == nil || !res[4].Success {
		t.Fatalf("results %+v", res)
	}
	if _, err := c.CreateMany(context.Background(), "Lead", []Record{{"Id": "x"}}, nil); err == nil {
		t.Fatal("create with an Id accepted")
	}
	if _, err := c.UpsertMany(context.Background(), "Lead", "Ext__c", []Record{{"LastName": "no key"}}, nil); err == nil {
		t.Fatal("upsert without the key accepted")
	}
}
