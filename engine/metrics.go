package engine

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engines' Prometheus metrics, shared by the engines of
// every connection of a process. docs/operations.md describes each one.
// Counters move as work happens; the backlog, record states, budget and
// Bulk jobs are read from the store and the governors when scraped, so
// they are right for the store as a whole, replicas included.
type Metrics struct {
	records  *prometheus.CounterVec
	batches  *prometheus.CounterVec
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	holds    *prometheus.CounterVec
	mu       sync.Mutex
	engines  []*Engine
	scrapeTO time.Duration
}

// NewMetrics registers the engine metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_records_pushed_total",
			Help: "Records settled by a push, by mapping and outcome (created, updated, unchanged, deleted, skipped, held, retrying)."},
			[]string{"mapping", "outcome"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_batches_total",
			Help: "Batches pushed, by mapping and API (collections, bulk)."}, []string{"mapping", "api"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_salesforce_calls_total",
			Help: "HTTP exchanges with Salesforce (each attempt), by connection, kind and status (HTTP status, or \"error\" when no answer came)."},
			[]string{"connection", "kind", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "forcesync_salesforce_call_duration_seconds",
			Help:    "Time of each HTTP exchange with Salesforce until its answer's headers, by connection and kind.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}}, []string{"connection", "kind"}),
		holds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forcesync_backfill_holds_total",
			Help: "Times a mapping's backfill was held back while its backlog grew, to go out as one Bulk job (realtime work is not held)."},
			[]string{"mapping"}),
		scrapeTO: 5 * time.Second,
	}
	reg.MustRegister(m.records, m.batches, m.calls, m.latency, m.holds, stateCollector{m})
	return m
}

// Watch adds an engine to what a scrape reads (backlog, states, budget).
func (m *Metrics) Watch(e *Engine) {
	m.mu.Lock()
	m.engines = append(m.engines, e)
	m.mu.Unlock()
	for _, p := range e.livePipes() {
		for _, o := range []string{"created", "updated", "unchanged", "deleted", "skipped", "held", "retrying"} {
			m.records.WithLabelValues(p.Mapping.Name, o) // known mappings report zero rather than nothing
		}
	}
}

// ObserveCall is meant for salesforce.Hooks.OnCall (through the caller's
// own hook): it counts a call and its latency.
func (m *Metrics) ObserveCall(connection string, info salesforce.CallInfo) {
	status := "error"
	if info.Status > 0 {
		status = strconv.Itoa(info.Status)
	} else if errors.Is(info.Err, context.Canceled) {
		status = "canceled"
	}
	m.calls.WithLabelValues(connection, string(info.Kind), status).Inc()
	m.latency.WithLabelValues(connection, string(info.Kind)).Observe(info.Duration.Seconds())
}

// backfillHeld counts a hold of a mapping's backfill (backfill.go).
func (m *Metrics) backfillHeld(mapping string) {
	if m == nil {
		return
	}
	m.holds.WithLabelValues(mapping).Inc()
}

// batch counts a pushed batch and its records' outcomes.
func (m *Metrics) batch(run *forcesync.Run) {
	if m == nil {
		return
	}
	m.batches.WithLabelValues(run.Mapping, run.API).Inc()
	add := func(o string, n int) {
		if n > 0 {
			m.records.WithLabelValues(run.Mapping, o).Add(float64(n))
		}
	}
	add("created", run.Created)
	add("updated", run.Updated)
	add("unchanged", run.Unchanged)
	add("deleted", run.Deleted)
	add("skipped", run.Skipped)
}

// outcome counts failed records by outcome (held, retrying).
func (m *Metrics) outcome(mapping, o string, n int) {
	if m != nil && n > 0 {
		m.records.WithLabelValues(mapping, o).Add(float64(n))
	}
}

// stateCollector reads state at scrape time.
type stateCollector struct{ m *Metrics }

var (
	descBacklog = prometheus.NewDesc("forcesync_backlog", "Work items queued (due or waiting for a retry), by mapping.", []string{"mapping"}, nil)
	descOldest  = prometheus.NewDesc("forcesync_oldest_pending_age_seconds",
		"Age of the oldest queued change of a mapping (0 when none is queued).", []string{"mapping"}, nil)
	descStates = prometheus.NewDesc("forcesync_records", "Records by mapping and state (pending, synced, retrying, held, skipped, deleted, disabled, deprovisioned, converted).",
		[]string{"mapping", "state"}, nil)
	descOwn    = prometheus.NewDesc("forcesync_api_calls_24h", "API calls forcesync made in the last 24 hours, by connection.", []string{"connection"}, nil)
	descBudget = prometheus.NewDesc("forcesync_api_budget", "API calls forcesync may make in 24 hours (its share of the org's allowance), by connection.",
		[]string{"connection"}, nil)
	descOrgUsed = prometheus.NewDesc("forcesync_org_api_used", "The org's API calls in its rolling 24 hours, as Salesforce last reported.", []string{"connection"}, nil)
	descOrgMax  = prometheus.NewDesc("forcesync_org_api_max", "The org's daily API allowance, as Salesforce last reported.", []string{"connection"}, nil)
	descPaused  = prometheus.NewDesc("forcesync_budget_paused", "1 while the budget governor pauses a lane (realtime, backfill) of a connection.",
		[]string{"connection", "lane"}, nil)
	descResume = prometheus.NewDesc("forcesync_budget_resume_timestamp_seconds",
		"When the governor expects to resume (Unix seconds); 0 when running.", []string{"connection"}, nil)
	descBulk         = prometheus.NewDesc("forcesync_bulk_jobs_in_flight", "Bulk API jobs created and not yet collected, by connection.", []string{"connection"}, nil)
	descSchemaPaused = prometheus.NewDesc("forcesync_mapping_schema_paused",
		"1 while a schema change paused the mapping (reason: the changes), 0 otherwise.", []string{"mapping", "reason"}, nil)
	descUp = prometheus.NewDesc("forcesync_salesforce_up", "1 while the org answers and login works, 0 during an outage or a login failure.",
		[]string{"connection"}, nil)
)

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBacklog, descOldest, descStates, descOwn, descBudget, descOrgUsed, descOrgMax, descPaused, descResume, descBulk, descUp, descSchemaPaused} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	es := append([]*Engine(nil), c.m.engines...)
	c.m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.m.scrapeTO)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, e := range es {
		now := e.cfg.Now()
		paused := map[string]SchemaPause{}
		for _, sp := range e.SchemaPauses() {
			paused[sp.Mapping] = sp
		}
		for _, p := range e.livePipes() {
			name := p.Mapping.Name
			if sp, ok := paused[name]; ok {
				gauge(descSchemaPaused, 1, name, sp.Cause)
			} else {
				gauge(descSchemaPaused, 0, name, "")
			}
			if n, err := e.store.Backlog(ctx, name); err == nil {
				gauge(descBacklog, float64(n), name)
			}
			if at, err := e.store.OldestQueued(ctx, name); err == nil {
				age := 0.0
				if !at.IsZero() {
					age = max(0, now.Sub(at).Seconds())
				}
				gauge(descOldest, age, name)
			}
			if counts, err := e.store.Counts(ctx, name); err == nil {
				for _, s := range []forcesync.State{forcesync.StatePending, forcesync.StateSynced, forcesync.StateRetrying,
					forcesync.StateHeld, forcesync.StateSkipped, forcesync.StateDeleted, forcesync.StateDisabled,
					forcesync.StateDeprovisioned, forcesync.StateConverted} {
					gauge(descStates, float64(counts[s]), name, string(s))
				}
			}
		}
		conn := e.cfg.Connection
		st := e.gov.State()
		gauge(descOwn, float64(st.Own), conn)
		gauge(descBudget, float64(st.Budget), conn)
		gauge(descOrgUsed, float64(st.OrgUsed), conn)
		gauge(descOrgMax, float64(st.OrgMax), conn)
		for _, lane := range []string{forcesync.LaneRealtime, forcesync.LaneBackfill} {
			v := 0.0
			for _, l := range st.Paused {
				if l == lane {
					v = 1
				}
			}
			gauge(descPaused, v, conn, lane)
		}
		resume := 0.0
		if len(st.Paused) > 0 && !st.ResumeAt.IsZero() {
			resume = float64(st.ResumeAt.Unix())
		}
		gauge(descResume, resume, conn)
		if jobs, err := e.store.BulkJobs(ctx, conn); err == nil {
			n := 0
			for _, j := range jobs {
				if !IsBulkIntent(j.ID) {
					n++
				}
			}
			gauge(descBulk, float64(n), conn)
		}
		if e.cfg.Health != nil {
			up := 1.0
			if hs := e.cfg.Health.Status(); !hs.OK {
				up = 0
			}
			gauge(descUp, up, conn)
		}
	}
}
