package httpserver

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// Defaults of the overload guards (Config's zero values).
const (
	// DefaultMaxBacklog is how many changes may wait for one mapping before
	// ingest answers 429: about half an hour of Bulk API pushing, and far
	// below what makes the store's claims slow.
	DefaultMaxBacklog = 100_000
	// DefaultMaxAccepts is how many ingest calls may write to the store at
	// once; more wait for a turn.
	DefaultMaxAccepts = 32
	// DefaultAcceptWait is how long an ingest call waits for its turn before
	// it is answered 503: a store that slow is overloaded.
	DefaultAcceptWait = 2 * time.Second
	// backlogFresh is how long a measured backlog is reused: counting the
	// outbox on every call would itself load the store.
	backlogFresh = time.Second
	// Seconds an overloaded client is told to wait (Retry-After).
	retryBacklog   = 5
	retrySlowStore = 1
)

// Timeouts of the HTTP server, so a slow or stalled client cannot hold a
// connection (and its memory) without bound.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute // a whole request, body included (32 MiB at 1 MB/s fits)
	DefaultWriteTimeout      = time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
)

// HTTPServer returns an *http.Server serving s with the timeouts of s's
// Config (the defaults above when zero).
func (s *Server) HTTPServer() *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: orDefault(t.ReadHeader, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(t.Read, DefaultReadTimeout),
		WriteTimeout:      orDefault(t.Write, DefaultWriteTimeout),
		IdleTimeout:       orDefault(t.Idle, DefaultIdleTimeout),
	}
}

// Timeouts overrides the HTTP server's timeouts; zero fields are the
// defaults.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// ingestMediaTypes are the Content-Types an ingest body may declare. A body
// without a Content-Type is read as JSON or NDJSON by its first byte.
var ingestMediaTypes = map[string]bool{
	"application/json":        true,
	"application/x-ndjson":    true,
	"application/ndjson":      true,
	"application/jsonl":       true,
	"application/x-jsonl":     true,
	"application/jsonlines":   true,
	"application/x-jsonlines": true,
}

// checkMediaType refuses an ingest body that says it is not JSON or NDJSON
// (a form post, CSV, XML): it would only fail later with a parse error
// that hides the real mistake.
func checkMediaType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && ingestMediaTypes[mt] {
		return nil
	}
	return &forcesync.Error{Code: forcesync.EInvalid, Field: "Content-Type",
		Message: fmt.Sprintf("%q is not accepted; send application/json (a JSON array) or application/x-ndjson (one object per line)", ct)}
}

// backlogs remembers the last measured backlog of each mapping.
type backlogs struct {
	mu sync.Mutex
	m  map[string]backlogSeen
}

type backlogSeen struct {
	n  int
	at time.Time
}

// overBacklog returns the first of mappings whose backlog has reached the
// limit, and that backlog; "" when none has. Backlogs are measured at most
// once a backlogFresh per mapping, and what this server accepted since is
// added (added), so a burst inside one window is still counted.
func (s *Server) overBacklog(ctx context.Context, mappings []string) (string, int, error) {
	limit := s.cfg.MaxBacklog
	if limit == 0 {
		limit = DefaultMaxBacklog
	}
	if limit < 0 {
		return "", 0, nil
	}
	now := s.cfg.Now()
	for _, m := range mappings {
		s.backlog.mu.Lock()
		seen, ok := s.backlog.m[m]
		s.backlog.mu.Unlock()
		if !ok || now.Sub(seen.at) >= backlogFresh || now.Before(seen.at) {
			n, err := s.cfg.Store.Backlog(ctx, m)
			if err != nil {
				return "", 0, err
			}
			seen = backlogSeen{n: n, at: now}
			s.backlog.mu.Lock()
			s.backlog.m[m] = seen
			s.backlog.mu.Unlock()
		}
		if seen.n >= limit {
			return m, seen.n, nil
		}
	}
	return "", 0, nil
}

// added counts n accepted changes into the remembered backlog of mappings.
func (s *Server) added(mappings []string, n int) {
	s.backlog.mu.Lock()
	defer s.backlog.mu.Unlock()
	for _, m := range mappings {
		if seen, ok := s.backlog.m[m]; ok {
			seen.n += n
			s.backlog.m[m] = seen
		}
	}
}

// acceptTurn waits for one of the store's write turns. It returns false
// (and the caller answers 503) when none came within the wait: the store is
// slower than the callers.
func (s *Server) acceptTurn(ctx context.Context) (release func(), ok bool) {
	wait := s.cfg.AcceptWait
	if wait <= 0 {
		wait = DefaultAcceptWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s.accepts <- struct{}{}:
		return func() { <-s.accepts }, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// writeOverloaded answers 429 or 503 with Retry-After.
func writeOverloaded(w http.ResponseWriter, status, retryAfter int, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	writeJSON(w, status, errorBody{Error: msg, Code: forcesync.EUnavailable})
}
