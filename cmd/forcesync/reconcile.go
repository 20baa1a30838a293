package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/spf13/cobra"
)

func init() { register(newReconcileCmd) }

type reconcileFlags struct {
	config        string
	mapping       string
	heal          bool
	format        string
	bulkThreshold int
}

func newReconcileCmd(env *Env) *cobra.Command {
	var f reconcileFlags
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Find where Salesforce drifted from forcesync, and heal it",
		Long: `Reads the mapping's bound records back from Salesforce (one Bulk API 2.0 query
above --bulk-threshold bound records, SOQL by Id below) and compares them with
what forcesync last pushed and what the source holds now. It reports drift by
kind: field_changed (edited in Salesforce by someone else), deleted, merged,
missing (gone for good), converted (a converted Lead), twins (two records with
one match value), never_synced (source records without a twin) and unreadable
(source records whose stored fields cannot be read back: left alone); a record
several keys share (matched by fields) is compared with the key whose values
it holds, the others are reported shared, not drift, and left alone. The run
and its findings are kept in the store (GET /api/v1/reconcile/runs).

--heal repairs and pushes: edited records are pushed again, deleted, merged
and missing ones created again when the mapping may create, bindings to
converted Leads moved to the Contact under the source's Contact mapping,
unbound twins deleted when the mapping deletes in Salesforce, and records
never synced queued (healed only when the push that follows syncs them; the
output says what it did). The repairs go through the mapping's mass-change guard
(the mapping's guard: settings): more than it lets through and nothing is
changed; approve the mapping (forcesync approve MAPPING) and heal again.
Reads are charged to the connection's API budget like pushes; a reconcile
the budget does not allow is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReconcile(cmd.Context(), env, f)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "forcesync.yaml", "config file")
	cmd.Flags().StringVar(&f.mapping, "mapping", "", "mapping to reconcile (required)")
	cmd.Flags().BoolVar(&f.heal, "heal", false, "repair and push, within the mapping's mass-change guard")
	cmd.Flags().StringVar(&f.format, "format", "table", "output: table or json")
	cmd.Flags().IntVar(&f.bulkThreshold, "bulk-threshold", 2000, "bound records above which Salesforce is read through Bulk API 2.0 (-1: never)")
	return cmd
}

func runReconcile(ctx context.Context, env *Env, f reconcileFlags) error {
	switch {
	case f.mapping == "":
		return usageError{fmt.Errorf("--mapping is required")}
	case f.format != "table" && f.format != "json":
		return usageError{fmt.Errorf("--format %q: want table or json", f.format)}
	case f.bulkThreshold == 0 || f.bulkThreshold < -1:
		return usageError{fmt.Errorf("--bulk-threshold %d: give a positive number, or -1 for never", f.bulkThreshold)}
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openInspect(ctx, env, f.config, !f.heal, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	opt := engine.ReconcileOptions{BulkThreshold: f.bulkThreshold, Heal: f.heal}
	run, fs, err := reconcileAcross(ctx, a.store, a.conns, f.mapping, opt)
	if run == nil {
		return err // a mapping not in the config is ENotFound: exit 4
	}
	if err == nil && (run.Healed > 0 || run.Queued > 0) {
		if derr := a.drainMapping(ctx, f.mapping); derr != nil {
			return fmt.Errorf("pushing the repairs: %w", derr)
		}
		for _, c := range a.conns {
			for _, p := range c.pipes {
				if p.Mapping.Name == f.mapping {
					settleQueued(ctx, a.store, p.Mapping.Source, f.mapping, fs)
				}
			}
		}
	}
	if f.format == "json" {
		e := json.NewEncoder(env.Stdout)
		e.SetIndent("", "  ")
		if fs == nil {
			fs = []forcesync.Finding{}
		}
		if eerr := e.Encode(map[string]any{"run": run, "findings": fs}); eerr != nil {
			return eerr
		}
	} else {
		writeReconcileTable(env.Stdout, run, fs)
	}
	return err
}

// drainMapping pushes what a heal queued, with the engine of the mapping's
// connection.
func (a *inspectApp) drainMapping(ctx context.Context, mapping string) error {
	for _, c := range a.conns {
		var ms []forcesync.Mapping
		mine := false
		for _, p := range c.pipes {
			ms = append(ms, p.Mapping)
			mine = mine || p.Mapping.Name == mapping
		}
		if !mine {
			continue
		}
		eng, err := engine.New(ctx, a.store, c.api, ms, c.ecfg)
		if err != nil {
			return err
		}
		_, err = eng.Drain(ctx)
		return err
	}
	return nil
}

func writeReconcileTable(w io.Writer, run *forcesync.ReconcileRun, fs []forcesync.Finding) {
	fmt.Fprintf(w, "Reconcile run %d of %s: %d bound records read by %s, %d API calls\n", run.ID, run.Mapping, run.Checked, run.API, run.APICalls)
	if forcesync.Drifted(fs) == 0 {
		fmt.Fprintln(w, "  no drift")
	}
	kinds := make([]string, 0, len(run.Counts))
	for k := range run.Counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, run.Counts[forcesync.DriftKind(k)]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(parts, ", "))
	}
	if run.Healed > 0 {
		fmt.Fprintf(w, "  healed %d\n", run.Healed)
	}
	if run.Error != "" {
		fmt.Fprintf(w, "  stopped: %s\n", run.Error)
	}
	if len(fs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tKIND\tSALESFORCE ID\tHEALED\tDETAIL")
	for _, f := range fs {
		detail := f.Detail
		var ch []string
		for _, d := range f.Fields {
			ch = append(ch, fmt.Sprintf("%s: Salesforce %s, expected %s", d.Field, showValue(d.Salesforce), showValue(d.Expected)))
		}
		if len(ch) > 0 {
			detail = strings.Join(ch, "; ")
		}
		healed := "-"
		if f.Healed {
			healed = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Key, f.Kind, dash(f.SalesforceID), healed, detail)
	}
	tw.Flush()
}

// settleQueued tells, after the drain, what became of the never-synced
// records the heal queued: healed when the push synced them, their state
// (and error code) otherwise. The stored run keeps saying queued.
func settleQueued(ctx context.Context, store forcesync.Store, source, mapping string, fs []forcesync.Finding) {
	for i := range fs {
		f := &fs[i]
		if f.Kind != forcesync.DriftNeverSynced || !strings.HasSuffix(f.Detail, "; "+engine.HealQueued) {
			continue
		}
		sts, err := store.Statuses(ctx, source, f.Key)
		if err != nil {
			continue
		}
		for _, st := range sts {
			if st.Mapping != mapping {
				continue
			}
			switch {
			case st.State == forcesync.StateSynced:
				f.Healed = true
				f.Detail += ", then synced"
			case st.Error != nil:
				f.Detail += fmt.Sprintf(", then %s: %s", st.State, st.Error.Code)
			default:
				f.Detail += ", then " + string(st.State)
			}
		}
	}
}
