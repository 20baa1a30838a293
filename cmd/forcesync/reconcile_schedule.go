package main

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/httpserver"
)

// runReconcileSchedule reconciles each mapping with reconcile_every, in
// serve, until ctx ends: at once when its last run (by any replica sharing
// the store) is older than its period, then every period. It reports only;
// healing is a decision for a person (forcesync reconcile --heal). Each
// mapping's reconciles run in one replica at a time, the holder of the
// leader lease "reconcile:<mapping>", so replicas never reconcile the same
// mapping twice over.
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
	for name := range a.cfg.ReconcileEvery {
		names = append(names, name)
	}
	sort.Strings(names)
	var wg sync.WaitGroup
	for _, name := range names {
		every := a.cfg.ReconcileEvery[name]
		loop := func(ctx context.Context) { reconcileEvery(ctx, in, si, name, every, logger) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.leader == nil {
				loop(ctx)
				return
			}
			a.leader.Lead(ctx, "reconcile:"+name, func(ctx context.Context, _ forcesync.Lease) { loop(ctx) })
		}()
	}
	wg.Wait()
	return nil
}

// reconcileEvery reconciles one mapping whenever its last run is older
// than every, looking every quarter period (at least every 15s), until
// ctx ends.
func reconcileEvery(ctx context.Context, in forcesync.Inspector, si *servedInspect, name string, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(max(every/4, 15*time.Second))
	defer t.Stop()
	for {
		runs, err := in.ReconcileRuns(ctx, name, 1)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.Warn("scheduled reconcile: reading past runs", "event", "reconcile.failed", "mapping", name, "err", err)
		case len(runs) > 0 && time.Since(runs[0].Started) < every:
		default:
			run, fs, err := si.Reconcile(ctx, name, httpserver.ReconcileRequest{})
			if ctx.Err() != nil {
				return
			}
			logScheduledReconcile(logger, name, run, fs, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logScheduledReconcile logs the outcome of a scheduled reconcile, with an
// event as every log line of interest has (docs/operations.md):
// reconcile.failed, reconcile.drift (warn) or reconcile.clean (info).
func logScheduledReconcile(logger *slog.Logger, name string, run *forcesync.ReconcileRun, fs []forcesync.Finding, err error) {
	switch {
	case err != nil:
		logger.Warn("scheduled reconcile failed", "event", "reconcile.failed", "mapping", name, "err", err)
	case forcesync.Drifted(fs) > 0:
		logger.Warn("scheduled reconcile found drift", "event", "reconcile.drift", "mapping", name, "run", run.ID,
			"findings", forcesync.Drifted(fs), "counts", run.Counts)
	default:
		logger.Info("scheduled reconcile: no drift", "event", "reconcile.clean", "mapping", name, "run", run.ID, "checked", run.Checked)
	}
}
