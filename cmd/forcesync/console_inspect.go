package main

import (
	"context"
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/engine"
)

// consoleInspect answers the console's plan and reconcile questions over
// serve's engines: the same planAcross and reconcileAcross as the API.
type consoleInspect struct {
	si          *servedInspect
	connections []forcesync.Connection
}

var _ console.Inspector = consoleInspect{}

func (ci consoleInspect) Plan(ctx context.Context, mappings []string) ([]console.MappingPlan, error) {
	v, err := ci.si.Plan(ctx, mappings)
	if err != nil {
		return nil, err
	}
	p := v.(*engine.Plan)
	out := make([]console.MappingPlan, 0, len(p.Mappings))
	for _, mp := range p.Mappings {
		out = append(out, consolePlan(mp))
	}
	return out, nil
}

// PlanMapping compiles m against its connection's org now and plans it
// as the next push would run it, in place of the running mapping.
func (ci consoleInspect) PlanMapping(ctx context.Context, m forcesync.Mapping) (*console.MappingPlan, error) {
	conn := m.Connection
	if conn == "" && len(ci.connections) > 0 {
		conn = ci.connections[0].Name
	}
	for _, e := range ci.si.engines {
		api, ok := e.API().(*engine.SalesforceAPI)
		if !ok || e.Config().Connection != conn {
			continue
		}
		pipes, err := engine.Compile(ctx, api, []forcesync.Mapping{m})
		if err != nil {
			return nil, err
		}
		pl, err := engine.NewPlanner(ci.si.store, api, pipes, e.Config())
		if err != nil {
			return nil, err
		}
		p, err := pl.Plan(ctx, engine.PlanOptions{Records: 100})
		if err != nil {
			return nil, err
		}
		cp := consolePlan(p.Mappings[0])
		return &cp, nil
	}
	return nil, fmt.Errorf("no mapping of connection %q runs yet, so serve has not connected it", conn)
}

// Reconcile reports only: the console never heals.
func (ci consoleInspect) Reconcile(ctx context.Context, mapping string) (*forcesync.ReconcileRun, error) {
	run, _, err := reconcileAcross(ctx, ci.si.store, ci.si.conns(), mapping, engine.ReconcileOptions{MaxChanges: -1})
	return run, err
}

func consolePlan(mp *engine.MappingPlan) console.MappingPlan {
	c := mp.Counts
	out := console.MappingPlan{Mapping: mp.Mapping, Object: mp.Object, Changed: mp.Changed, Requeued: mp.Requeued, Paused: mp.Paused,
		Counts: console.PlanCounts{Create: c.Create, Update: c.Update, Delete: c.Delete, Disable: c.Disable, NoOp: c.NoOp,
			Held: c.Held, Skipped: c.Skipped, Retry: c.Retry},
		Held: mp.Held, Retry: mp.Retry, Calls: mp.Calls.Total, PlanReads: mp.Calls.PlanReads, Truncated: mp.Truncated}
	for _, r := range mp.Records {
		pr := console.PlannedRecord{Key: r.Key, Action: r.Action, SalesforceID: r.SalesforceID, API: r.API, Code: r.Code, Message: r.Message}
		for _, ch := range r.Changes {
			pr.Changes = append(pr.Changes, console.FieldChange{Field: ch.Field, Old: ch.Old, New: ch.New})
		}
		out.Records = append(out.Records, pr)
	}
	return out
}
