package salesforce

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Login hosts of Salesforce. Any other URL (My Domain, an Experience site,
// the emulator) is accepted too.
const (
	ProductionLoginURL = "https://login.salesforce.com"
	SandboxLoginURL    = "https://test.salesforce.com"
)

// CallKind labels an API call for hooks and metrics. The values match the
// emulator's call statistics.
type CallKind string

// Kinds of calls.
const (
	KindREST        CallKind = "rest"        // sObject resources, describe, limits, versions
	KindCollections CallKind = "collections" // /composite/sobjects
	KindComposite   CallKind = "composite"   // /composite
	KindQuery       CallKind = "query"       // query, queryAll and next pages
	KindBulk        CallKind = "bulk"        // /jobs/ingest, /jobs/query
	KindOAuth       CallKind = "oauth"       // token, revoke, userinfo, identity
)

// CallInfo describes one HTTP exchange with Salesforce (one attempt).
type CallInfo struct {
	Kind     CallKind
	Method   string
	Path     string // URL path only: never the query string, which may hold data
	Status   int    // 0 when no answer arrived
	Duration time.Duration
	Attempt  int   // 1 for the first try of a request
	Err      error // transport error or *APIError; nil on 2xx
}

// Hooks are called synchronously from the goroutine making the call; they
// must be fast and safe for concurrent use. Nil hooks are skipped.
type Hooks struct {
	// OnLimitInfo receives every Sforce-Limit-Info header, parsed.
	OnLimitInfo func(LimitInfo)
	// OnCall receives every HTTP exchange: API calls, token calls, retries.
	OnCall func(CallInfo)
	// OnToken receives every token the client obtains (first token, refresh,
	// re-mint), so the caller can persist it. It is never logged by the client.
	OnToken func(*oauth2.Token)
	// CheckToken, when set, vets every token before the client uses it
	// (first token, refresh, re-mint); an error refuses the token, and the
	// call that needed it fails with that error. forcesync's org pinning
	// uses it to refuse a session of another org.
	CheckToken func(*oauth2.Token) error
	// OnBulkPace receives the time per record the client expects of the
	// org's Bulk ingest jobs each time a job completes, so the caller can
	// keep it for the next process (Client.SeedBulkPace). It runs on the
	// goroutine that waited for the job.
	OnBulkPace func(perRecord time.Duration)
}

// RetryPolicy is the backoff for retryable failures. The zero value means 4
// attempts, 500ms base delay doubling up to 30s, with jitter.
type RetryPolicy struct {
	// MaxAttempts counts the first try. 0 means 4; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the delay before the second attempt. 0 means 500ms.
	BaseDelay time.Duration
	// MaxDelay caps one delay. 0 means 30s.
	MaxDelay time.Duration
	// Rand returns a number in [0,1) for jitter. Nil means math/rand/v2.
	Rand func() float64
	// Sleep waits d or until ctx ends. Nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) attempts() int {
	if p.MaxAttempts <= 0 {
		return 4
	}
	return p.MaxAttempts
}

// delay is the wait before attempt n+1 after attempt n failed: exponential
// from BaseDelay, capped at MaxDelay, with "equal jitter" (half fixed, half
// random) so many clients hitting the same lock spread out.
func (p RetryPolicy) delay(n int) time.Duration {
	base, max := p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

func (p RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Config configures a Client. The zero value of each field is its default.
type Config struct {
	// LoginURL is the OAuth host: ProductionLoginURL (default),
	// SandboxLoginURL, a My Domain URL, or any URL such as the emulator's.
	LoginURL string
	// InstanceURL is the org's instance URL. Empty: taken from the token's
	// instance_url.
	InstanceURL string
	// APIVersion such as "65.0". Empty: the newest version the org lists at
	// GET /services/data, discovered by NewClient and then pinned.
	APIVersion string
	// HTTPClient is the base client (no auth). Nil: a client with a tuned
	// keep-alive transport (see DefaultHTTPClient).
	HTTPClient *http.Client
	// Timeout bounds each attempt of a call, including reading a returned
	// body. 0 means 2 minutes; negative means none (rely on ctx).
	Timeout time.Duration
	// Auth obtains and renews tokens. Required.
	Auth Auth
	// Hooks observe calls, limit headers and tokens.
	Hooks Hooks
	// Retry is the backoff policy.
	Retry RetryPolicy
	// UserAgent for every request. Empty: "forcesync".
	UserAgent string
	// ClientName, when set, is sent as Sforce-Call-Options: client=<name>, so
	// changes show it in Change Data Capture's changeOrigin.
	ClientName string
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// DefaultHTTPClient returns the client used when Config.HTTPClient is nil:
// keep-alive with enough idle connections per host for concurrent chunks,
// bounded dial and TLS handshake times. Compression is negotiated by Client
// itself, so the transport's own is left off.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 32
	t.MaxConnsPerHost = 0
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ExpectContinueTimeout = time.Second
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = true
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: t}
}

// Client talks to one Salesforce org. It is safe for concurrent use.
//
// Tokens: Salesforce tokens carry no expiry, so the client uses its token
// until an answer is 401 INVALID_SESSION_ID, then renews it through Auth
// exactly once for all requests that saw the same stale token (single
// flight) and replays each of them once. A second 401 is returned as is.
type Client struct {
	cfg      Config
	hc       *http.Client // base client, with hook reporting for token calls
	rawHC    *http.Client
	loginURL string
	now      func() time.Time
	version  string

	mu          sync.Mutex
	tok         *oauth2.Token
	gen         uint64 // incremented on every new token
	instanceURL *url.URL
	lastLimit   LimitInfo
	renewals    singleflight.Group

	describes describeCache
	bulkPace  pace // how fast the org processes Bulk ingest records
}

// NewClient obtains a token through cfg.Auth, learns the instance URL and,
// when cfg.APIVersion is empty, the newest API version of the org.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Auth == nil {
		return nil, errors.New("salesforce: Config.Auth is required")
	}
	login := strings.TrimRight(cfg.LoginURL, "/")
	if login == "" {
		login = ProductionLoginURL
	}
	if _, err := parseBaseURL(login); err != nil {
		return nil, fmt.Errorf("salesforce: login URL: %w", err)
	}
	c := &Client{cfg: cfg, loginURL: login, now: cfg.Now, version: strings.TrimPrefix(cfg.APIVersion, "v")}
	if c.now == nil {
		c.now = time.Now
	}
	c.rawHC = cfg.HTTPClient
	if c.rawHC == nil {
		c.rawHC = DefaultHTTPClient()
	}
	c.rawHC = withCounting(c.rawHC) // per-context call counts (count.go)
	hc := *c.rawHC
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &hookTransport{c: c, base: base, kind: KindOAuth}
	c.hc = &hc

	tok, err := cfg.Auth.Token(ctx, c.authEnv(), nil)
	if err != nil {
		return nil, err
	}
	if err := c.setToken(tok); err != nil {
		return nil, err
	}
	if c.version == "" {
		vs, err := c.Versions(ctx)
		if err != nil {
			return nil, fmt.Errorf("salesforce: discovering API version: %w", err)
		}
		if len(vs) == 0 {
			return nil, errors.New("salesforce: the org lists no API versions")
		}
		c.version = newestVersion(vs)
	}
	return c, nil
}

func (c *Client) authEnv() AuthEnv {
	return AuthEnv{LoginURL: c.loginURL, HTTPClient: c.hc, Now: c.now}
}

// setToken installs a new token and its instance URL.
func (c *Client) setToken(tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return &AuthError{Code: "no_token", Description: "the auth flow returned no access token", Reauthorize: true}
	}
	if c.cfg.Hooks.CheckToken != nil {
		if err := c.cfg.Hooks.CheckToken(tok); err != nil {
			return err
		}
	}
	inst := c.cfg.InstanceURL
	if s, ok := tok.Extra("instance_url").(string); ok && s != "" && inst == "" {
		inst = s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if inst == "" && c.instanceURL == nil {
		return errors.New("salesforce: no instance URL: set Config.InstanceURL or use a flow whose token carries instance_url")
	}
	if inst != "" {
		u, err := parseBaseURL(inst)
		if err != nil {
			return fmt.Errorf("salesforce: instance URL: %w", err)
		}
		c.instanceURL = u
	}
	c.tok = tok
	c.gen++
	if c.cfg.Hooks.OnToken != nil {
		c.cfg.Hooks.OnToken(tok)
	}
	return nil
}

func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	return u, nil
}

// current returns the token in use and its generation.
func (c *Client) current() (*oauth2.Token, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok, c.gen
}

// Token returns the access token in use (for callers that must hand it to
// another transport, such as a Pub/Sub stream).
func (c *Client) Token() *oauth2.Token {
	t, _ := c.current()
	return t
}

// SeedBulkPace sets the time per record the client expects of the org's
// Bulk ingest jobs, as an earlier process learned it (Hooks.OnBulkPace):
// the first status poll of a job then comes about when it should be done.
// A zero or negative d changes nothing.
func (c *Client) SeedBulkPace(d time.Duration) { c.bulkPace.seed(d) }

// BulkPace returns the time per record the client expects of the org's
// Bulk ingest jobs, 0 before it knows.
func (c *Client) BulkPace() time.Duration { return c.bulkPace.perRecord() }

// InstanceURL returns the org's instance URL without trailing slash.
func (c *Client) InstanceURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.instanceURL.String()
}

// LoginURL returns the OAuth host in use.
func (c *Client) LoginURL() string { return c.loginURL }

// Version returns the pinned API version, e.g. "65.0".
func (c *Client) Version() string { return c.version }

// DataPath returns the REST path of a resource under the pinned version:
// DataPath("sobjects/Lead") is "/services/data/v65.0/sobjects/Lead".
func (c *Client) DataPath(rest string) string {
	return "/services/data/v" + c.version + "/" + strings.TrimPrefix(rest, "/")
}

// LastLimitInfo returns the most recent Sforce-Limit-Info seen (zero before
// the first).
func (c *Client) LastLimitInfo() LimitInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastLimit
}

// renew replaces the token of generation gen. Requests that saw the same
// stale token share one renewal; a request whose token was already
// replaced gets the new one without another call. It never loops: a failed
// renewal is returned to every waiter.
func (c *Client) renew(ctx context.Context, gen uint64) error {
	_, cur := c.current()
	if cur != gen {
		return nil
	}
	ch := c.renewals.DoChan("renew", func() (any, error) {
		stale, cur := c.current()
		if cur != gen {
			return nil, nil
		}
		// The renewal outlives any one waiter's cancellation: the others
		// still need it. It is bounded by its own deadline.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		tok, err := c.cfg.Auth.Token(rctx, c.authEnv(), stale)
		if err != nil {
			return nil, err
		}
		return nil, c.setToken(tok)
	})
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r := <-ch:
		return r.Err
	}
}

type retrySafeKey struct{}

// WithRetrySafe marks the calls made with ctx as safe to send twice even when
// they are POSTs (a query-like POST, a Bulk job creation the caller can
// tell apart). Without it a POST is retried only when the failure proves
// nothing was committed.
func WithRetrySafe(ctx context.Context) context.Context {
	return context.WithValue(ctx, retrySafeKey{}, true)
}

type noRetryKey struct{}

// WithoutRetries makes the calls made with ctx try once: a retryable
// failure is returned at once for the caller to retry when it sees fit
// (a renewal of an expired session still replays the call). A caller
// that read what it is about to write uses it, so that the time between
// its read and its write is one exchange, not the retries' backoff.
func WithoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetryKey{}, true)
}

// Do sends one authenticated request to path, relative to the instance
// ("/services/data/v65.0/jobs/ingest", optionally with a query string) or
// an absolute URL on the instance host; the token is never sent to another
// host. It returns the response for 2xx, 300 and 304 answers (the caller
// closes the body); any other answer becomes an *APIError.
//
// Body: the request body must be sent again on a retry or after a token
// renewal. *bytes.Reader, *bytes.Buffer and *strings.Reader are replayed
// without a copy; any other reader is read into memory first.
//
// Retries follow Config.Retry for retryable failures (see
// APIError.Retryable and Retryable), with this safety rule: GET, HEAD, PUT,
// PATCH and DELETE are retried freely (PATCH here is an update or an upsert
// by External ID, both idempotent); a POST (a create) is retried only when
// the failure proves nothing was committed (the connection could not be
// opened, 429, 503, UNABLE_TO_LOCK_ROW, REQUEST_LIMIT_EXCEEDED) or ctx was
// marked WithRetrySafe. A connection dropped after a create was sent is
// returned to the caller, who must find out whether the record exists.
func (c *Client) Do(ctx context.Context, kind CallKind, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	target, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	getBody, size, err := replayable(body)
	if err != nil {
		return nil, fmt.Errorf("salesforce: reading request body: %w", err)
	}
	safe := method != http.MethodPost || ctx.Value(retrySafeKey{}) != nil
	var timeout time.Duration // per attempt; none when Config.Timeout < 0
	if c.cfg.Timeout >= 0 {
		timeout = c.cfg.Timeout
		if timeout == 0 {
			timeout = 2 * time.Minute
		}
	}
	renewed := false
	attempts := c.cfg.Retry.attempts()
	if ctx.Value(noRetryKey{}) != nil {
		attempts = 1
	}
	for attempt := 1; ; attempt++ {
		tok, gen := c.current()
		resp, err := c.exchange(ctx, exchange{kind: kind, method: method, target: target, header: header, tok: tok, attempt: attempt,
			getBody: getBody, size: size, timeout: timeout, redirects: true})
		if err == nil {
			return resp, nil
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && ae.Code == CodeInvalidSession && !renewed {
			renewed = true
			if rerr := c.renew(ctx, gen); rerr != nil {
				return nil, rerr
			}
			attempt-- // the replay after a renewal is not a retry
			continue
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if attempt >= attempts || !Retryable(err) || !(safe || provesNotCommitted(err)) {
			return nil, err
		}
		d := c.cfg.Retry.delay(attempt)
		if ae != nil {
			if ra := retryAfter(ae); ra > d {
				d = ra
			}
		}
		if serr := c.cfg.Retry.sleep(ctx, d); serr != nil {
			return nil, err
		}
	}
}

func provesNotCommitted(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.notCommitted()
	}
	return notSent(err)
}

// retryAfter reads a Retry-After header kept on the error, capped at 2
// minutes.
func retryAfter(ae *APIError) time.Duration {
	if ae.retryAfter <= 0 {
		return 0
	}
	return min(ae.retryAfter, 2*time.Minute)
}

// resolve turns path into an absolute URL on the instance host.
func (c *Client) resolve(path string) (string, error) {
	c.mu.Lock()
	inst := c.instanceURL
	c.mu.Unlock()
	if strings.HasPrefix(path, "/") {
		return inst.String() + path, nil
	}
	u, err := url.Parse(path)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("salesforce: path %q must start with / or be an absolute URL on the instance", path)
	}
	if !strings.EqualFold(u.Scheme, inst.Scheme) || !strings.EqualFold(u.Host, inst.Host) {
		return "", fmt.Errorf("salesforce: refusing to send the session to %s (instance is %s)", u.Host, inst.Host)
	}
	return u.String(), nil
}

// replayable returns a function producing a fresh copy of body for each
// attempt, and its size (-1 unknown).
func replayable(body io.Reader) (func() (io.ReadCloser, error), int64, error) {
	if body == nil || body == http.NoBody {
		return nil, 0, nil
	}
	// http.NewRequest knows how to replay the in-memory reader types.
	probe, err := http.NewRequest(http.MethodPost, "http://replay.invalid/", body)
	if err == nil && probe.GetBody != nil {
		return probe.GetBody, probe.ContentLength, nil
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, 0, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, int64(len(b)), nil
}

// decorate sets the headers every request carries.
func (c *Client) decorate(req *http.Request) {
	ua := c.cfg.UserAgent
	if ua == "" {
		ua = "forcesync"
	}
	req.Header.Set("User-Agent", ua)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	// Asked explicitly (rather than left to the transport) so compression
	// works with any caller-supplied transport; decodeBody undoes it.
	req.Header.Set("Accept-Encoding", "gzip")
	if c.cfg.ClientName != "" && req.Header.Get("Sforce-Call-Options") == "" {
		req.Header.Set("Sforce-Call-Options", "client="+c.cfg.ClientName)
	}
}

// decodeBody makes a gzip-encoded body transparent.
func decodeBody(resp *http.Response) error {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		if errors.Is(err, io.EOF) { // empty body (204) with a gzip label
			resp.Body = io.NopCloser(bytes.NewReader(nil))
			resp.Header.Del("Content-Encoding")
			return nil
		}
		return fmt.Errorf("gzip body: %w", err)
	}
	resp.Body = &gzipBody{zr: zr, under: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
	return nil
}

type gzipBody struct {
	zr    *gzip.Reader
	under io.ReadCloser
}

func (g *gzipBody) Read(p []byte) (int, error) { return g.zr.Read(p) }
func (g *gzipBody) Close() error {
	g.zr.Close()
	return g.under.Close()
}

// cancelBody ends the attempt's context when the caller closes the body.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (c *Client) report(info CallInfo) {
	if c.cfg.Hooks.OnCall != nil {
		c.cfg.Hooks.OnCall(info)
	}
}

func (c *Client) observeLimits(h http.Header) {
	for _, v := range h.Values("Sforce-Limit-Info") {
		li, err := ParseLimitInfo(v)
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.lastLimit = li
		c.mu.Unlock()
		if c.cfg.Hooks.OnLimitInfo != nil {
			c.cfg.Hooks.OnLimitInfo(li)
		}
	}
}

// hookTransport reports calls that do not go through Do (token endpoint,
// version list) to the hooks.
type hookTransport struct {
	c    *Client
	base http.RoundTripper
	kind CallKind
}

func (t *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	info := CallInfo{Kind: t.kind, Method: req.Method, Path: req.URL.Path, Attempt: 1, Duration: time.Since(start), Err: err}
	if resp != nil {
		info.Status = resp.StatusCode
		t.c.observeLimits(resp.Header)
	}
	t.c.report(info)
	return resp, err
}

// doJSON sends in (marshalled unless nil) and decodes a 2xx answer into out
// (unless nil). It returns the status.
func (c *Client) doJSON(ctx context.Context, kind CallKind, method, path string, in, out any) (int, error) {
	return c.doJSONHeader(ctx, kind, method, path, nil, in, out)
}

// doJSONHeader is doJSON with extra request headers.
func (c *Client) doJSONHeader(ctx context.Context, kind CallKind, method, path string, header http.Header, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("salesforce: encoding %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.Do(ctx, kind, method, path, body, header)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("salesforce: decoding %s %s: %w", method, stripQuery(path), err)
	}
	return resp.StatusCode, nil
}

func stripQuery(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// LimitInfo is one Sforce-Limit-Info header:
// "api-usage=18/5000; api-bursts=1/750; per-app-api-usage=17/250(appName=x)".
type LimitInfo struct {
	Used, Max int // api-usage: calls in the rolling 24 hours and the cap
	// BurstsUsed and BurstsMax are api-bursts; zero when absent.
	BurstsUsed, BurstsMax int
	// PerApp lists per-app-api-usage entries.
	PerApp []AppUsage
}

// AppUsage is one per-app-api-usage entry.
type AppUsage struct {
	App       string
	Used, Max int
}

// ParseLimitInfo parses a Sforce-Limit-Info value. Unknown entries are
// ignored; an entry without api-usage is an error.
func ParseLimitInfo(s string) (LimitInfo, error) {
	var li LimitInfo
	found := false
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		switch name {
		case "api-usage":
			u, m, err := parseUsage(val)
			if err != nil {
				return LimitInfo{}, fmt.Errorf("salesforce: Sforce-Limit-Info api-usage %q: %w", val, err)
			}
			li.Used, li.Max, found = u, m, true
		case "api-bursts":
			if u, m, err := parseUsage(val); err == nil {
				li.BurstsUsed, li.BurstsMax = u, m
			}
		case "per-app-api-usage":
			app := ""
			if i := strings.IndexByte(val, '('); i >= 0 {
				inner := strings.TrimSuffix(val[i+1:], ")")
				val = val[:i]
				if k, v, ok := strings.Cut(inner, "="); ok && strings.TrimSpace(k) == "appName" {
					app = v
				}
			}
			if u, m, err := parseUsage(val); err == nil {
				li.PerApp = append(li.PerApp, AppUsage{App: app, Used: u, Max: m})
			}
		}
	}
	if !found {
		return LimitInfo{}, fmt.Errorf("salesforce: Sforce-Limit-Info %q has no api-usage", s)
	}
	return li, nil
}

// parseUsage reads "N/M" with non-negative decimal numbers.
func parseUsage(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("want N/M")
	}
	u, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 31)
	m, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 31)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("want two non-negative integers")
	}
	return int(u), int(m), nil
}
