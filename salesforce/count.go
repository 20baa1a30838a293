package salesforce

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
)

// CallCounter counts the API calls made with one context: every attempt
// (retries and the replay after a token renewal included) of a request
// that Salesforce counts against the org's daily allowance. Concurrent
// callers each count their own work with their own counter, which a
// client-wide hook cannot do. The zero value is ready; it is safe for
// concurrent use.
type CallCounter struct{ n atomic.Int64 }

// Calls returns the calls counted so far.
func (c *CallCounter) Calls() int { return int(c.n.Load()) }

type counterKey struct{}

// counters is a context's chain of counters, innermost first.
type counters struct {
	c     *CallCounter
	outer *counters
}

// WithCallCounter returns a context whose calls through any Client add to
// c. Contexts derived from it count too; a nested counter counts beside
// the outer ones (a plan counts the calls of the batches it runs, each of
// which counts its own).
func WithCallCounter(ctx context.Context, c *CallCounter) context.Context {
	outer, _ := ctx.Value(counterKey{}).(*counters)
	return context.WithValue(ctx, counterKey{}, &counters{c: c, outer: outer})
}

// CountsAgainstLimit reports whether a call to path spends the org's daily
// API allowance: the REST, Bulk and SOAP data APIs do; OAuth and the list
// of versions (GET /services/data) do not.
func CountsAgainstLimit(path string) bool {
	return strings.HasPrefix(path, "/services/data/v") || strings.HasPrefix(path, "/services/async/") ||
		strings.HasPrefix(path, "/services/Soap/")
}

// countTransport adds each request to its context's CallCounter. It wraps
// the base transport, so every send path of the client counts the same.
type countTransport struct{ base http.RoundTripper }

func (t countTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if cs, ok := req.Context().Value(counterKey{}).(*counters); ok && CountsAgainstLimit(req.URL.Path) {
		for ; cs != nil; cs = cs.outer {
			cs.c.n.Add(1)
		}
	}
	return t.base.RoundTrip(req)
}

// withCounting returns a copy of hc whose transport counts calls.
func withCounting(hc *http.Client) *http.Client {
	out := *hc
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = countTransport{base: base}
	return &out
}
