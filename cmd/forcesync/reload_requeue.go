package main

import (
	"context"
	"log/slog"
)

// requeueChanged requeues, once the old app's engines have stopped, the
// held records of every mapping whose compiled config the reload changed.
// engine.New requeued them already when it built the next app, but the
// old engines were still running then and could take such a record and
// hold it again under the old mapping; the next engines would then never
// try it with the new one.
func requeueChanged(ctx context.Context, old, next *app, logger *slog.Logger) {
	before := map[string]string{}
	for _, e := range old.engines {
		for _, p := range e.Pipes() {
			before[p.Mapping.Name] = p.Compiled.Version()
		}
	}
	for _, e := range next.engines {
		for _, p := range e.Pipes() {
			v, ok := before[p.Mapping.Name]
			if !ok || v == p.Compiled.Version() {
				continue
			}
			n, err := next.base.Requeue(ctx, p.Mapping.Name, nil)
			if err != nil {
				logger.Error("reload: requeueing the held records of a changed mapping failed", "mapping", p.Mapping.Name, "err", err)
				continue
			}
			if n > 0 {
				// Held again by the old engines after engine.New requeued
				// (and logged) the mapping's held records.
				logger.Info("reload: mapping changed; records the old mapping held meanwhile requeued", "mapping", p.Mapping.Name, "records", n)
			}
		}
	}
}
