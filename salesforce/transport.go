package salesforce

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// exchange describes one HTTP attempt. Every call to the instance goes
// through Client.exchange, whether its body is replayed from memory (Do)
// or streamed once (doStream: Bulk uploads and result downloads), so call
// reporting (Hooks.OnCall), the limits header (Sforce-Limit-Info), gzip
// answers and error wrapping live in one place.
type exchange struct {
	kind    CallKind
	method  string
	target  string
	header  http.Header
	tok     *oauth2.Token
	attempt int
	// The body is either replayable (getBody, of size bytes, -1 unknown)
	// or a one-shot stream; nil both: none.
	getBody func() (io.ReadCloser, error)
	size    int64
	stream  io.Reader
	// timeout (0: none) bounds the whole attempt, answer body included;
	// headerTimeout (0: none) only the wait for the answer's headers.
	timeout       time.Duration
	headerTimeout time.Duration
	// redirects: 300 and 304 are answers to hand back, not errors.
	redirects bool
}

// exchange makes one attempt. A 2xx answer (or 300/304 with redirects) is
// returned with its body decoded from gzip, to be closed by the caller;
// anything else is an error: an *APIError for an answer, a wrapped
// transport error otherwise.
func (c *Client) exchange(ctx context.Context, x exchange) (*http.Response, error) {
	var (
		actx   context.Context
		cancel context.CancelFunc
	)
	if x.timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, x.timeout)
	} else {
		actx, cancel = context.WithCancel(ctx)
	}
	var timer *time.Timer
	if x.headerTimeout > 0 {
		timer = time.AfterFunc(x.headerTimeout, cancel)
	}
	var body io.Reader // an untyped nil when there is none
	switch {
	case x.getBody != nil:
		rc, err := x.getBody()
		if err != nil {
			cancel()
			return nil, err
		}
		body = rc
	case x.stream != nil:
		body = x.stream
	}
	req, err := http.NewRequestWithContext(actx, x.method, x.target, body)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("salesforce: %w", err)
	}
	for k, vs := range x.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	c.decorate(req)
	req.Header.Set("Authorization", "Bearer "+x.tok.AccessToken)
	switch {
	case x.getBody != nil:
		req.GetBody = x.getBody
		req.ContentLength = x.size
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
	case x.stream != nil:
		// Unknown length; a refusal (401, 4xx) comes before any of the
		// stream is read, so the request can still be sent again.
		req.ContentLength = -1
		req.Header.Set("Expect", "100-continue")
	}

	start := time.Now()
	info := CallInfo{Kind: x.kind, Method: x.method, Path: req.URL.Path, Attempt: x.attempt}
	fail := func(err error) (*http.Response, error) {
		cancel()
		info.Duration, info.Err = time.Since(start), err
		c.report(info)
		return nil, fmt.Errorf("salesforce: %s %s: %w", x.method, req.URL.Path, err)
	}
	resp, err := c.rawHC.Do(req)
	if timer != nil && !timer.Stop() {
		// The header deadline fired: the request was canceled.
		if err == nil {
			resp.Body.Close()
		}
		return fail(fmt.Errorf("no response headers within %v: %w", x.headerTimeout, context.DeadlineExceeded))
	}
	if err != nil {
		return fail(err)
	}
	info.Status = resp.StatusCode
	c.observeLimits(resp.Header)
	if err := decodeBody(resp); err != nil {
		resp.Body.Close()
		return fail(err)
	}
	if resp.StatusCode < 300 || (x.redirects && (resp.StatusCode == http.StatusMultipleChoices || resp.StatusCode == http.StatusNotModified)) {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		info.Duration = time.Since(start)
		c.report(info)
		return resp, nil
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	cancel()
	ae := ParseError(resp.StatusCode, b)
	if rerr != nil && len(b) == 0 {
		ae.Body = "(body unreadable: " + rerr.Error() + ")"
	}
	ae.Method, ae.Path = x.method, req.URL.Path
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			ae.retryAfter = time.Duration(n) * time.Second
		}
	}
	info.Duration, info.Err = time.Since(start), ae
	c.report(info)
	return nil, ae
}
