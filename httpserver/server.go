package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Engine is what the doors need of the push engine.
type Engine interface {
	// MappingsFor names the mappings a source feeds.
	MappingsFor(source string) []string
	// Notify wakes the workers after new changes were accepted.
	Notify()
	// Paused says why pushing is paused ("" when it is not).
	Paused() string
}

// Config holds the server's dependencies. Zero values are defaults.
type Config struct {
	Store  forcesync.Store
	Engine Engine
	// Sources are the source objects the ingest API accepts.
	Sources []string
	// APIToken is the bearer token every /api/ call must carry. Empty
	// refuses every /api/ call (there is no unauthenticated mode).
	APIToken string
	// SourceTokens are the sources' own tokens (sources[].api_token) by
	// source name: each opens the routes of its source only (auth.go).
	SourceTokens map[string]string
	// SCIM, when set, serves /scim/v2/ (it checks its own token).
	SCIM http.Handler
	// Changes, when set, serves the changes feed of pulled mappings and
	// their conflicts and dead letters (changes.go).
	Changes ChangesFeed
	// Approve, when set, serves POST /api/v1/mappings/{mapping}/approve:
	// it lifts the mass-change guard's pause of a mapping and requeues
	// what the guard held (engine.Approve), returning how many.
	Approve func(ctx context.Context, mapping string) (int, error)
	// Keep, when set, serves the same route with ?keep=true: the records
	// of a mapping removed from the config are kept instead of
	// deprovisioned (engine.KeepRemoved).
	Keep func(ctx context.Context, mapping string) error
	// Inspect, when set, serves plans and reconcile runs (inspect.go).
	Inspect Inspect
	// Console, when set, serves every path no API route claims (the admin
	// console's pages; it checks its own sessions).
	Console http.Handler
	// MaxBody caps an ingest body in bytes. Zero means 32 MiB.
	MaxBody int64
	// MaxBacklog is how many changes may wait for one mapping before ingest
	// of its source answers 429 with Retry-After; zero means
	// DefaultMaxBacklog, negative turns the check off (overload.go).
	MaxBacklog int
	// MaxAccepts is how many ingest calls write to the store at once; zero
	// means DefaultMaxAccepts. AcceptWait is how long a call waits for its
	// turn before a 503 with Retry-After; zero means DefaultAcceptWait.
	MaxAccepts int
	AcceptWait time.Duration
	// Timeouts of HTTPServer; zero fields are the defaults.
	Timeouts Timeouts
	// Registry receives the server's metrics and is what /metrics serves;
	// nil means a new one.
	Registry *prometheus.Registry
	// MetricsNeedsToken and HealthzNeedsToken put GET /metrics and GET
	// /healthz behind APIToken; false leaves them open.
	MetricsNeedsToken, HealthzNeedsToken bool
	// Health, when set, reports each org's state for /healthz (health.go).
	Health func() []ConnectionHealth
	Logger *slog.Logger
	Now    func() time.Time
}

// Server is forcesync's HTTP API.
type Server struct {
	cfg     Config
	sources map[string]bool
	mux     *http.ServeMux
	metrics *metrics
	backlog backlogs
	accepts chan struct{} // one slot per ingest call writing to the store
}

// New returns the server; routes.go lists every route.
func New(cfg Config) *Server {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 32 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAccepts <= 0 {
		cfg.MaxAccepts = DefaultMaxAccepts
	}
	s := &Server{cfg: cfg, sources: map[string]bool{}, mux: http.NewServeMux(), metrics: newMetrics(cfg.Registry),
		backlog: backlogs{m: map[string]backlogSeen{}}, accepts: make(chan struct{}, cfg.MaxAccepts)}
	for _, src := range cfg.Sources {
		s.sources[src] = true
		// Known sources report zero rather than nothing.
		s.metrics.accepted.WithLabelValues(src)
		s.metrics.rejected.WithLabelValues(src)
	}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
}

// statusOf maps domain error codes to HTTP statuses, once.
var statusOf = map[string]int{
	forcesync.EInvalid:      http.StatusBadRequest,
	forcesync.ENotFound:     http.StatusNotFound,
	forcesync.EConflict:     http.StatusConflict,
	forcesync.EUnauthorized: http.StatusUnauthorized,
	forcesync.EForbidden:    http.StatusForbidden,
	forcesync.EUnavailable:  http.StatusServiceUnavailable,
	forcesync.EInternal:     http.StatusInternalServerError,
	forcesync.EGone:         http.StatusGone,
}

type errorBody struct {
	Error    string    `json:"error"`
	Code     string    `json:"code"`
	Problems []Problem `json:"problems,omitempty"`
}

func writeError(w http.ResponseWriter, err error) {
	code := forcesync.ErrorCode(err)
	st, ok := statusOf[code]
	if !ok {
		st = http.StatusInternalServerError
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		st, code = http.StatusRequestEntityTooLarge, forcesync.EInvalid
		writeJSON(w, st, errorBody{Error: "body exceeds " + strconv.FormatInt(mbe.Limit, 10) + " bytes", Code: code})
		return
	}
	writeJSON(w, st, errorBody{Error: forcesync.ErrorMessage(err), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
