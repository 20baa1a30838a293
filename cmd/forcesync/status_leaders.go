package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/schedule"
)

// leaderStatus is one leader lease as `forcesync status` shows it: who
// leads the duty and, for a schedule, when it last fired and fires next.
type leaderStatus struct {
	Lease string `json:"lease"`
	// Owner is the replica holding it; "" when no replica does now.
	Owner string    `json:"owner"`
	Until time.Time `json:"until,omitzero"`
	Token int64     `json:"token"`
	// LastFired and NextFiring are a schedule's (schedule:<mapping>:<job>
	// leases): the due time of its last firing, and of the next one.
	LastFired  time.Time `json:"last_fired,omitzero"`
	NextFiring time.Time `json:"next_firing,omitzero"`
}

// loadLeaders lists the store's leader leases, and every schedule of cfg
// (a schedule serve has not started yet shows with no lease).
func loadLeaders(ctx context.Context, cfg *config.Config, st forcesync.Store, now time.Time) ([]leaderStatus, error) {
	ls, ok := forcesync.StoreAs[forcesync.LeaderStore](st)
	if !ok {
		return nil, nil
	}
	leases, err := ls.Leases(ctx, "")
	if err != nil {
		return nil, err
	}
	byName := map[string]forcesync.Lease{}
	for _, l := range leases {
		byName[l.Name] = l
	}
	for name, s := range cfg.Schedules {
		for kind, spec := range map[string]string{"replay": s.Replay, "resync": s.Resync} {
			j := schedule.Job{Mapping: name, Kind: kind}
			if _, seen := byName[j.Lease()]; spec != "" && !seen {
				byName[j.Lease()] = forcesync.Lease{Name: j.Lease()}
			}
		}
	}
	out := []leaderStatus{}
	for _, l := range byName {
		row := leaderStatus{Lease: l.Name, Token: l.Token}
		if l.Held(now) {
			row.Owner, row.Until = l.Owner, l.Until
		}
		if mapping, kind, ok := scheduleLease(l.Name); ok && !l.Mark.IsZero() {
			row.LastFired = l.Mark
			s := cfg.Schedules[mapping]
			spec := map[string]string{"replay": s.Replay, "resync": s.Resync}[kind]
			if sc, err := schedule.Parse(spec); err == nil && s.Location != nil {
				row.NextFiring = sc.Next(l.Mark.In(s.Location)).UTC()
			}
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Lease < out[j].Lease })
	return out, nil
}

// scheduleLease splits "schedule:<mapping>:<job>".
func scheduleLease(name string) (mapping, kind string, ok bool) {
	rest, ok := strings.CutPrefix(name, "schedule:")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

func printLeaders(env *Env, rows []leaderStatus) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout, "\nLeaders (one replica runs each duty):")
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "LEASE\tHELD BY\tUNTIL\tTOKEN\tLAST FIRED\tNEXT FIRING")
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	for _, r := range rows {
		owner := r.Owner
		if owner == "" {
			owner = "(none)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Lease, owner, ts(r.Until), r.Token, ts(r.LastFired), ts(r.NextFiring))
	}
	w.Flush()
}
