package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sort"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/schedule"
)

// leaderOwner names one running app among the replicas sharing a store:
// host, process and a random part (several apps may run in one process,
// as tests do, and a reload builds a new app).
func leaderOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// openSchedules gives the app its leader (the store's leader leases) and
// its scheduler (the mappings' schedule: blocks): pulled mappings poll,
// webhooks post, schedules fire and scheduled reconciles run in one
// replica at a time. A store without leader leases runs them all here.
func (a *app) openSchedules(st forcesync.Store, logger *slog.Logger) error {
	ls, ok := forcesync.StoreAs[forcesync.LeaderStore](st)
	if !ok {
		if len(a.cfg.Schedules) > 0 {
			return fmt.Errorf("store %T keeps no leader leases: mappings' schedule: blocks cannot run", st)
		}
		return nil
	}
	metrics := schedule.NewMetrics(a.registry)
	a.leader = &schedule.Leader{Store: ls, Owner: leaderOwner(), TTL: a.cfg.Engine.LeaderLease,
		Logger: logger.With("side", "leader"), Metrics: metrics}
	if a.pull != nil {
		a.pull.Lead = func(ctx context.Context, name string, run func(context.Context)) {
			a.leader.Lead(ctx, name, func(ctx context.Context, _ forcesync.Lease) { run(ctx) })
		}
	}
	if len(a.cfg.Schedules) == 0 {
		return nil
	}
	rp, ok := forcesync.StoreAs[forcesync.Replayer](st)
	if !ok {
		return fmt.Errorf("store %T cannot replay a source: mappings' schedule: blocks cannot run", st)
	}
	names := make([]string, 0, len(a.cfg.Schedules))
	for name := range a.cfg.Schedules {
		names = append(names, name)
	}
	sort.Strings(names)
	sc := &schedule.Scheduler{Leader: a.leader, Logger: logger.With("side", "schedule"), Metrics: metrics}
	for _, name := range names {
		s := a.cfg.Schedules[name]
		var m forcesync.Mapping
		for _, cm := range a.cfg.Mappings {
			if cm.Name == name {
				m = cm
			}
		}
		for _, job := range []struct {
			kind, spec string
			forced     bool
		}{{"replay", s.Replay, false}, {"resync", s.Resync, true}} {
			if job.spec == "" {
				continue
			}
			sc.Jobs = append(sc.Jobs, schedule.Job{Mapping: name, Kind: job.kind, Spec: job.spec, Location: s.Location,
				Run: schedule.ReplayJob(rp, m, job.forced, engines(a.engines).Notify, sc.Logger)})
		}
	}
	a.sched = sc
	return nil
}

// runSchedules fires the app's schedules until ctx ends.
func (a *app) runSchedules(ctx context.Context) error {
	if a.sched == nil {
		return nil
	}
	return a.sched.Run(ctx)
}
