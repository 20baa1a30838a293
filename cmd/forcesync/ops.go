package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/oauth2"
	"golang.org/x/term"
)

// newServeLogger logs as text for a person at a terminal and as JSON, one
// object a line, for a log collector otherwise (docs/operations.md lists
// the events).
func newServeLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newRegistry is what /metrics serves: the Go runtime and process
// collectors, and the engines' metrics (the HTTP server adds its own).
func newRegistry() (*prometheus.Registry, *engine.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, engine.NewMetrics(reg)
}

// observers are what watches one connection: the call counter of its API,
// the governor, the health tracker and the metrics.
type observers struct {
	name    string
	api     *engine.SalesforceAPI
	gov     *engine.Governor
	health  *engine.Health
	metrics *engine.Metrics
}

// hooks feeds the client's calls, limit headers and tokens to them.
func (o *observers) hooks() salesforce.Hooks {
	return salesforce.Hooks{
		OnCall: func(ci salesforce.CallInfo) {
			o.api.CountCall(ci)
			o.health.ObserveCall(ci)
			if o.metrics != nil {
				o.metrics.ObserveCall(o.name, ci)
			}
		},
		OnLimitInfo: func(li salesforce.LimitInfo) {
			if g := o.gov; g != nil {
				g.ObserveUsage(li.Used, li.Max)
			}
		},
		OnToken: func(*oauth2.Token) { o.health.ObserveToken() },
	}
}

// Health implements /healthz's report for every connection.
func (es engines) Health() []httpserver.ConnectionHealth {
	var out []httpserver.ConnectionHealth
	for _, e := range es {
		ch := httpserver.ConnectionHealth{Name: e.Connection(), OK: true}
		if h := e.Health(); h != nil {
			st := h.Status()
			ch.OK, ch.Reason, ch.Since = st.OK, st.Reason, st.Since
		}
		b := e.Governor().State()
		ch.Budget = httpserver.ToBudgetHealth(b)
		for _, p := range e.SchemaPauses() {
			ch.PausedMappings = append(ch.PausedMappings, httpserver.MappingPause{Mapping: p.Mapping, Reason: p.Reason})
		}
		out = append(out, ch)
	}
	return out
}
