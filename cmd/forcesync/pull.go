package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/prometheus/client_golang/prometheus"
)

// pullConn is one connection's client and engine, for its pullers.
type pullConn struct {
	client *salesforce.Client
	eng    *engine.Engine
}

// openPull builds a puller per pulled mapping (direction pull or both),
// the webhook deliverers and the changes feed; nil when nothing pulls.
// Each puller spends from its connection's budget: the engine's governor
// is asked before every poll.
//
// A mapping the engine holds paused for a schema change (a field it uses
// was deleted in Salesforce; the pause is stored, so a start or a reload
// finds it) is pulled no more than it is pushed: its puller is built held,
// without checking its fields against the org's describe (they would not
// fit), polls nothing, and resumes with the push side, when the engine's
// schema check or a reload finds the mapping fits again. A pulled field
// missing from the describe of a mapping that is not paused stays an
// error: the engine refuses such a mapping before this, as a config
// error (no stored pause says the field was there), so none reaches here
// but by a fault.
func (a *app) openPull(ctx context.Context, st forcesync.Store, conns []pullConn, logger *slog.Logger) error {
	pulls := false
	for _, m := range a.cfg.Mappings {
		pulls = pulls || m.Pulls()
	}
	if !pulls {
		return nil
	}
	// The store itself, not a door's wrapper of it: pulled changes are
	// Salesforce's, not a door's.
	ps, ok := st.(pull.Store)
	if !ok {
		return fmt.Errorf("store %T cannot pull", st)
	}
	r := &pull.Runner{Logger: logger.With("side", "pull"), OnPulled: engines(a.engines).Notify, Polled: pollHook}
	var pulled []forcesync.Mapping
	for _, c := range conns {
		for _, pipe := range c.eng.Pipes() {
			m := pipe.Mapping
			if !m.Pulls() {
				continue
			}
			hold, current := schemaHold(c.eng, m.Name)
			p, err := pull.New(ctx, pull.Config{Mapping: m, Compiled: pipe.Compiled, Store: ps, Querier: c.client,
				Queue: engines(a.engines).MappingsFor(m.Source), Budget: c.eng.PullBudget, Spent: c.eng.PullSpent,
				Hold: hold, Current: current, Suspect: schemaSuspect(c.eng, m.Name), Logger: logger.With("mapping", m.Name)})
			if err != nil {
				return err
			}
			r.Pullers = append(r.Pullers, p)
			pulled = append(pulled, m)
			set := m.PullSettings()
			if set.Has(forcesync.SinkWebhook) {
				r.Deliverers = append(r.Deliverers, &pull.Deliverer{Sink: pull.WebhookSink(m.Name), Webhook: *set.Webhook,
					Store: ps, Logger: logger.With("mapping", m.Name)})
			}
		}
	}
	if len(r.Pullers) == 0 {
		return nil
	}
	// The config's other mappings are named too, so that the dead
	// letters of a push mapping say it does not pull, not that it is unknown.
	known := pulled
	for _, m := range a.cfg.Mappings {
		if !m.Pulls() {
			known = append(known, m)
		}
	}
	r.Feed = pull.NewFeed(ps, known)
	r.Feed.Logger = logger.With("side", "pull")
	a.pull = r
	if a.registry != nil {
		a.registry.MustRegister(pullCollector{r})
	}
	return nil
}

// pollHook, when set by a test, is told of every poll of every puller
// (held ones included, with a *pull.HeldError).
var pollHook func(mapping string, st pull.Stats, err error)

// schemaHold ties a pulled mapping to its engine's schema drift guard:
// hold says why the engine pauses the mapping ("" when it does not), and
// current is the mapping as the engine compiled it last (after a resume,
// against the describe that fits again).
func schemaHold(eng *engine.Engine, name string) (hold func() string, current func() *mapping.Compiled) {
	hold = func() string { return eng.SchemaPaused()[name] }
	current = func() *mapping.Compiled {
		for _, p := range eng.Pipes() {
			if p.Mapping.Name == name {
				return p.Compiled
			}
		}
		return nil
	}
	return hold, current
}

// schemaSuspect hands a failed poll of a pulled mapping to its engine's
// schema drift guard, which checks the mapping's schema at once when
// Salesforce refused the query for the schema (a pulled field deleted),
// so that a pull-only mapping, or a replica that did not see the pause
// come, is paused (and its pull held) without waiting for the periodic
// check.
func schemaSuspect(eng *engine.Engine, name string) func(context.Context, error) {
	return func(ctx context.Context, err error) { eng.SuspectSchema(ctx, name, err) }
}

var (
	descPullHeld = prometheus.NewDesc("forcesync_pull_held",
		"1 while a pulled mapping's pull is held (a schema change paused the mapping: nothing is polled until it fits again), 0 otherwise.",
		[]string{"mapping"}, nil)
	descPullPolls = prometheus.NewDesc("forcesync_pull_polls_total",
		"Polls of a pulled mapping by outcome: ok, failed (retried at the next poll from the watermark), held (schema pause), paused (API budget).",
		[]string{"mapping", "outcome"}, nil)
	descPulledRecords = prometheus.NewDesc("forcesync_pulled_records_total",
		"Records polls read, by what they were: changed (delivered), echo (forcesync's own push), created, restored (from the recycle bin, under their key), deleted, merged, converted, conflict.",
		[]string{"mapping", "kind"}, nil)
	descPullLastOK = prometheus.NewDesc("forcesync_pull_last_success_timestamp_seconds",
		"When a poll of the mapping last succeeded (Unix seconds); 0 before the first since start.",
		[]string{"mapping"}, nil)
	descWebhookDeliveries = prometheus.NewDesc("forcesync_webhook_deliveries_total",
		"Webhook delivery attempts by outcome: delivered (2xx), failed (retried after its backoff), dead (gave up: in the dead letters).",
		[]string{"mapping", "outcome"}, nil)
	descWebhookRedelivered = prometheus.NewDesc("forcesync_webhook_redelivered_total",
		"Dead letters put back for delivery through the API (POST /api/v1/mappings/{mapping}/dead-letters/redeliver) or the console of this process; their attempts count in forcesync_webhook_deliveries_total.",
		[]string{"mapping"}, nil)
	descWebhookStalls = prometheus.NewDesc("forcesync_webhook_stalls_total",
		"Webhook delivery rounds stopped because the receiver did not answer (a timeout, a refused connection); the sink then rests before trying again.",
		[]string{"mapping"}, nil)
)

// pullCollector reports the pulled mappings' holds and counts, at scrape
// time.
type pullCollector struct{ r *pull.Runner }

func (c pullCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPullHeld, descPullPolls, descPulledRecords, descPullLastOK, descWebhookDeliveries, descWebhookRedelivered, descWebhookStalls} {
		ch <- d
	}
}

func (c pullCollector) Collect(ch chan<- prometheus.Metric) {
	held := c.r.Held()
	counts := c.r.Counts()
	var redelivered map[string]int64
	if c.r.Feed != nil {
		redelivered = c.r.Feed.Redelivered()
	}
	for _, p := range c.r.Pullers {
		name := p.Mapping().Name
		v := 0.0
		if _, ok := held[name]; ok {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descPullHeld, prometheus.GaugeValue, v, name)
		cs := counts[name]
		for _, o := range []string{pull.PollOK, pull.PollFailed, pull.PollHeld, pull.PollPaused} {
			ch <- prometheus.MustNewConstMetric(descPullPolls, prometheus.CounterValue, float64(cs.Polls[o]), name, o)
		}
		for _, k := range []string{"changed", "echo", "created", "restored", "deleted", "merged", "converted", "conflict"} {
			ch <- prometheus.MustNewConstMetric(descPulledRecords, prometheus.CounterValue, float64(cs.Records[k]), name, k)
		}
		last := 0.0
		if !cs.LastOK.IsZero() {
			last = float64(cs.LastOK.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(descPullLastOK, prometheus.GaugeValue, last, name)
		if cs.Deliveries != nil {
			for _, o := range []string{pull.DeliveryDelivered, pull.DeliveryFailed, pull.DeliveryDead} {
				ch <- prometheus.MustNewConstMetric(descWebhookDeliveries, prometheus.CounterValue, float64(cs.Deliveries[o]), name, o)
			}
			ch <- prometheus.MustNewConstMetric(descWebhookRedelivered, prometheus.CounterValue, float64(redelivered[name]), name)
			ch <- prometheus.MustNewConstMetric(descWebhookStalls, prometheus.CounterValue, float64(cs.DeliveryStalls), name)
		}
	}
}
