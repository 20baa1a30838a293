package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/salesforce"
)

// inspectApp is a config opened for plan and reconcile: the store and,
// per connection, the client and the compiled mappings, made without
// engine.New's store writes (mapping versions, requeues).
type inspectApp struct {
	cfg   *config.Config
	store forcesync.Store
	conns []*inspectConn
}

type inspectConn struct {
	name  string
	api   *engine.SalesforceAPI
	pipes []*engine.Pipe
	ecfg  engine.Config
	// gov is the connection's budget governor: plan and reconcile ask it
	// before reading and are charged what they spent, like pushes.
	gov *engine.Governor
}

// openInspect opens the config at path. With readOnly the org pin is
// checked but a connection without one is not pinned.
func openInspect(ctx context.Context, env *Env, path string, readOnly bool, logger *slog.Logger) (*inspectApp, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Resolve(env.Getenv); err != nil {
		return nil, err
	}
	st, err := openConfigStore(ctx, cfg, path)
	if err != nil {
		return nil, err
	}
	a := &inspectApp{cfg: cfg, store: st}
	byConn := map[string][]forcesync.Mapping{}
	var order []string
	for _, m := range cfg.Mappings {
		name := m.Connection
		if name == "" && len(cfg.Connections) > 0 {
			name = cfg.Connections[0].Name
		}
		if _, ok := byConn[name]; !ok {
			order = append(order, name)
		}
		byConn[name] = append(byConn[name], m)
	}
	for _, name := range order {
		conn := cfg.Connection(name)
		if conn == nil {
			st.Close()
			return nil, fmt.Errorf("config: mappings use connection %q, which is not defined", name)
		}
		api := &engine.SalesforceAPI{}
		share := cfg.Engine.APIShare
		if conn.APIShare > 0 {
			share = conn.APIShare
		}
		gov, err := engine.NewGovernor(ctx, engine.GovernorConfig{Connection: name, Ledger: st, Share: share,
			Reserve: fraction(cfg.Engine.APIReserve), RealtimeLane: fraction(cfg.Engine.RealtimeLane),
			Recheck: cfg.Engine.LimitsRecheck, Limits: api.DailyAPIUsage, Logger: logger})
		if err != nil {
			st.Close()
			return nil, err
		}
		hooks := salesforce.Hooks{OnCall: api.CountCall, OnLimitInfo: func(li salesforce.LimitInfo) { gov.ObserveUsage(li.Used, li.Max) }}
		client, err := connectGuarded(ctx, env, st, *conn, hooks, readOnly)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("connection %s: %w", name, err)
		}
		api.Client = client
		pipes, err := engine.Compile(ctx, api, byConn[name])
		if err != nil {
			st.Close()
			return nil, err
		}
		a.conns = append(a.conns, &inspectConn{name: name, api: api, pipes: pipes, gov: gov, ecfg: engine.Config{
			Lease: cfg.Engine.Lease, BulkThreshold: cfg.Engine.BulkThreshold, APIShare: share,
			Workers: cfg.Engine.Workers, Logger: logger.With("connection", name), Connection: name, Governor: gov}})
	}
	return a, nil
}

// plan plans the selected mappings (all when none) across connections.
func (a *inspectApp) plan(ctx context.Context, opt engine.PlanOptions) (*engine.Plan, error) {
	return planAcross(ctx, a.store, a.conns, opt)
}

func planAcross(ctx context.Context, st forcesync.Store, conns []*inspectConn, opt engine.PlanOptions) (*engine.Plan, error) {
	want := map[string]bool{}
	for _, m := range opt.Mappings {
		want[m] = true
	}
	out := &engine.Plan{Mappings: []*engine.MappingPlan{}}
	found := map[string]bool{} // want is left whole: emptied, it would select every later mapping
	for _, c := range conns {
		var mine []string
		for _, p := range c.pipes {
			if len(want) == 0 || want[p.Mapping.Name] {
				mine = append(mine, p.Mapping.Name)
				found[p.Mapping.Name] = true
			}
		}
		if len(mine) == 0 {
			continue
		}
		pl, err := engine.NewPlanner(st, c.api, c.pipes, c.ecfg)
		if err != nil {
			return nil, err
		}
		pl.WithGovernor(c.gov)
		o := opt
		o.Mappings = mine
		p, err := pl.Plan(ctx, o)
		if errors.Is(err, engine.ErrBudgetSpent) {
			return nil, &forcesync.Error{Code: forcesync.EUnavailable, Message: err.Error()}
		}
		if err != nil {
			return nil, err
		}
		out.Mappings = append(out.Mappings, p.Mappings...)
	}
	for _, m := range opt.Mappings {
		if !found[m] {
			return nil, forcesync.Errorf(forcesync.ENotFound, "no mapping %q in the config", m)
		}
	}
	return out, nil
}

// servedInspect answers the API's plan and reconcile calls over serve's
// engines.
type servedInspect struct {
	store   forcesync.Store
	engines []*engine.Engine
}

func newServedInspect(st forcesync.Store, es []*engine.Engine) *servedInspect {
	return &servedInspect{store: st, engines: es}
}

// conns returns the engines' connections with the pipes in force now (a
// schema change may have recompiled some since serve started).
func (si *servedInspect) conns() []*inspectConn {
	var out []*inspectConn
	for _, e := range si.engines {
		api, ok := e.API().(*engine.SalesforceAPI)
		if !ok {
			continue
		}
		out = append(out, &inspectConn{name: e.Connection(), api: api, pipes: e.Pipes(), ecfg: e.Config(), gov: e.Governor()})
	}
	return out
}

// Plan implements httpserver.Inspect.
func (si *servedInspect) Plan(ctx context.Context, mappings []string) (any, error) {
	p, err := planAcross(ctx, si.store, si.conns(), engine.PlanOptions{Mappings: mappings})
	if err != nil {
		return nil, err
	}
	for _, e := range si.engines {
		paused := e.SchemaPaused()
		for _, m := range p.Mappings {
			if why, ok := paused[m.Mapping]; ok {
				m.Paused = why
			}
		}
	}
	return p, nil
}

// Reconcile implements httpserver.Inspect; the running engines push what
// a heal queued.
func (si *servedInspect) Reconcile(ctx context.Context, mapping string, req httpserver.ReconcileRequest) (*forcesync.ReconcileRun, []forcesync.Finding, error) {
	run, fs, err := reconcileAcross(ctx, si.store, si.conns(), mapping, engine.ReconcileOptions{Heal: req.Heal})
	if run != nil && (run.Healed > 0 || run.Queued > 0) {
		engines(si.engines).Notify()
	}
	return run, fs, err
}

// reconcileAcross reconciles a mapping on the connection serving it. A
// heal the mass-change guard paused is a forcesync.EConflict error, a
// reconcile the budget refuses a forcesync.EUnavailable one.
func reconcileAcross(ctx context.Context, st forcesync.Store, conns []*inspectConn, mapping string, opt engine.ReconcileOptions) (*forcesync.ReconcileRun, []forcesync.Finding, error) {
	for _, c := range conns {
		for _, p := range c.pipes {
			if p.Mapping.Name != mapping {
				continue
			}
			rc, err := engine.NewReconciler(st, c.api, c.pipes)
			if err != nil {
				return nil, nil, err
			}
			if c.gov != nil {
				rc.WithGovernor(c.gov)
			}
			run, fs, err := rc.Reconcile(ctx, mapping, opt)
			switch {
			case errors.Is(err, engine.ErrHealPaused):
				err = &forcesync.Error{Code: forcesync.EConflict, Message: err.Error()}
			case errors.Is(err, engine.ErrBudgetSpent):
				err = &forcesync.Error{Code: forcesync.EUnavailable, Message: err.Error()}
			}
			return run, fs, err
		}
	}
	return nil, nil, forcesync.Errorf(forcesync.ENotFound, "no mapping %q in the config", mapping)
}
