package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/forcesync/forcesync/engine"
	"github.com/spf13/cobra"
)

func init() { register(newPlanCmd) }

type planFlags struct {
	config   string
	mappings []string
	format   string
	records  int
}

func newPlanCmd(env *Env) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what the next push would do, writing nothing",
		Long: `Shows what the next push would do with the records waiting, from the store and
the live Salesforce org, without writing anything to either: how many records
it would create, update, delete, disable or leave unchanged, which it would
hold and why, the field-by-field change of each update (Salesforce's value ->
the new one), and the API calls it would spend (sObject Collections or Bulk
API 2.0).

Give a changed config with --config to see what it would do before applying
it: a mapping whose compiled form differs from the one in force requeues its
held records, and the plan includes them.

The plan runs the push's own code against the live org, reading only. It
cannot foresee refusals of Salesforce's own (validation or duplicate rules).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), env, f)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "forcesync.yaml", "config file (a changed one to plan the change)")
	cmd.Flags().StringSliceVar(&f.mappings, "mapping", nil, "plan only this mapping (repeatable; default: all)")
	cmd.Flags().StringVar(&f.format, "format", "table", "output: table, json or csv")
	cmd.Flags().IntVar(&f.records, "records", 1000, "records listed per mapping (counts are never capped; -1: all)")
	return cmd
}

func runPlan(ctx context.Context, env *Env, f planFlags) error {
	switch f.format {
	case "table", "json", "csv":
	default:
		return usageError{fmt.Errorf("--format %q: want table, json or csv", f.format)}
	}
	if f.records == 0 || f.records < -1 {
		return usageError{fmt.Errorf("--records %d: give a positive number, or -1 for all", f.records)}
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openInspect(ctx, env, f.config, true, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	p, err := a.plan(ctx, engine.PlanOptions{Mappings: f.mappings, Records: f.records})
	if err != nil {
		return err // a mapping not in the config is ENotFound: exit 4
	}
	switch f.format {
	case "json":
		e := json.NewEncoder(env.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(p)
	case "csv":
		return writePlanCSV(env.Stdout, p)
	}
	return writePlanTable(env.Stdout, p)
}

func writePlanTable(w io.Writer, p *engine.Plan) error {
	for i, m := range p.Mappings {
		if i > 0 {
			fmt.Fprintln(w)
		}
		c := m.Counts
		fmt.Fprintf(w, "Mapping %s -> %s\n", m.Mapping, m.Object)
		if m.Changed {
			fmt.Fprintf(w, "  the config changes this mapping: %d held records would be requeued\n", m.Requeued)
		}
		fmt.Fprintf(w, "  create %d, update %d, delete %d, disable %d, no-op %d, held %d, skipped %d, retry %d\n",
			c.Create, c.Update, c.Delete, c.Disable, c.NoOp, c.Held, c.Skipped, c.Retry)
		for _, code := range sortedKeys(m.Held) {
			fmt.Fprintf(w, "  held %s: %d\n", code, m.Held[code])
		}
		for _, code := range sortedKeys(m.Retry) {
			fmt.Fprintf(w, "  retry %s: %d\n", code, m.Retry[code])
		}
		k := m.Calls
		fmt.Fprintf(w, "  API calls: %d (collections %d, match queries %d, bulk %d in %d jobs); reading the org for this plan cost %d\n",
			k.Total, k.Collections, k.Queries, k.Bulk, k.BulkJobs, k.PlanReads)
		if len(m.Records) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  KEY\tACTION\tSALESFORCE ID\tAPI\tDETAIL")
		for _, r := range m.Records {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Key, r.Action, dash(r.SalesforceID), dash(r.API), planDetail(r))
		}
		tw.Flush()
		if m.Truncated {
			fmt.Fprintf(w, "  (records listed: %d; raise --records to see more)\n", len(m.Records))
		}
	}
	return nil
}

func planDetail(r engine.PlannedRecord) string {
	if r.Code != "" {
		return r.Code + ": " + r.Message
	}
	var parts []string
	for _, c := range r.Changes {
		parts = append(parts, fmt.Sprintf("%s: %s -> %s", c.Field, showValue(c.Old), showValue(c.New)))
	}
	return strings.Join(parts, "; ")
}

func showValue(v any) string {
	if v == nil {
		return "(empty)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// writePlanCSV writes one row per changed field of an update, and one row
// for every other record.
func writePlanCSV(w io.Writer, p *engine.Plan) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"mapping", "key", "action", "salesforce_id", "api", "code", "message", "field", "old", "new"})
	for _, m := range p.Mappings {
		for _, r := range m.Records {
			base := []string{m.Mapping, r.Key, r.Action, r.SalesforceID, r.API, r.Code, r.Message}
			if len(r.Changes) == 0 {
				cw.Write(append(base, "", "", ""))
				continue
			}
			for _, c := range r.Changes {
				cw.Write(append(append([]string{}, base...), c.Field, csvValue(c.Old), csvValue(c.New)))
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return showValue(v)
}
