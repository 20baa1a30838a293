package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
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
	r := &pull.Runner{Logger: logger.With("side", "pull"), OnPulled: engines(a.engines).Notify}
	var pulled []forcesync.Mapping
	for _, c := range conns {
		for _, pipe := range c.eng.Pipes() {
			m := pipe.Mapping
			if !m.Pulls() {
				continue
			}
			p, err := pull.New(ctx, pull.Config{Mapping: m, Compiled: pipe.Compiled, Store: ps, Querier: c.client,
				Queue: engines(a.engines).MappingsFor(m.Source), Budget: c.eng.PullBudget, Spent: c.eng.PullSpent,
				Logger: logger.With("mapping", m.Name)})
			if err != nil {
				return err
			}
			r.Pullers = append(r.Pullers, p)
			pulled = append(pulled, m)
			set := m.PullSettings()
			if set.Has(forcesync.SinkWebhook) {
				r.Deliverers = append(r.Deliverers, &pull.Deliverer{Sink: pull.WebhookSink(m.Name), Webhook: *set.Webhook,
					Store: ps, Logger: logger.With("mapping", m.Name, "sink", "webhook")})
			}
		}
	}
	if len(r.Pullers) == 0 {
		return nil
	}
	r.Feed = pull.NewFeed(ps, pulled)
	a.pull = r
	return nil
}
