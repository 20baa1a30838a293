package main

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
)

// runReconcileSchedule reconciles each mapping with reconcile_every, in
// serve, until ctx ends: at once when its last run (by any replica sharing
// the store) is older than its period, then every period. It reports only;
// healing is a decision for a person (forcesync reconcile --heal). Two
// replicas may both run a reconcile that falls due at the same moment: it
// costs a few extra calls and changes nothing.
func runReconcileSchedule(ctx context.Context, a *app, logger *slog.Logger) error {
	if len(a.cfg.ReconcileEvery) == 0 {
		return nil
	}
	in, ok := forcesync.StoreAs[forcesync.Inspector](a.store)
	if !ok {
		logger.Warn("reconcile_every is set but the store keeps no reconcile runs")
		return nil
	}
	si := newServedInspect(a.store, a.engines)
	names := make([]string, 0, len(a.cfg.ReconcileEvery))
	tick := time.Hour
	for name, every := range a.cfg.ReconcileEvery {
		names = append(names, name)
		tick = min(tick, every/4)
	}
	sort.Strings(names)
	tick = max(tick, 15*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		for _, name := range names {
			runs, err := in.ReconcileRuns(ctx, name, 1)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				logger.Warn("scheduled reconcile: reading past runs", "mapping", name, "err", err)
				continue
			}
			if len(runs) > 0 && time.Since(runs[0].Started) < a.cfg.ReconcileEvery[name] {
				continue
			}
			run, fs, err := si.Reconcile(ctx, name, httpserver.ReconcileRequest{})
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				logger.Warn("scheduled reconcile failed", "mapping", name, "err", err)
			case len(fs) > 0:
				logger.Warn("scheduled reconcile found drift", "mapping", name, "run", run.ID, "findings", len(fs), "counts", run.Counts)
			default:
				logger.Info("scheduled reconcile: no drift", "mapping", name, "run", run.ID, "checked", run.Checked)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
