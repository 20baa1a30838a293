package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/spf13/cobra"
)

func init() { register(newBindCmd) }

type bindFlags struct {
	config  string
	mapping string
	dryRun  bool
	format  string
	limit   int
}

func newBindCmd(env *Env) *cobra.Command {
	var f bindFlags
	cmd := &cobra.Command{
		Use:   "bind",
		Short: "Link source records to the Salesforce records they already have",
		Long: `Before a mapping's first run, looks up each unbound source record in Salesforce
by the mapping's match rule (its External ID, or its first match field), with the
query a push makes: one record found is a link, none a create, several (or one
that two source records match, or one bound to another key) is ambiguous.

--dry-run lists what would be linked, created or is ambiguous and writes nothing.
Without it the links are bound, so the next push updates those records instead of
creating twins; creates are left to the push, ambiguous records to a person.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBind(cmd.Context(), env, f) },
	}
	cmd.Flags().StringVar(&f.config, "config", "forcesync.yaml", "config file")
	cmd.Flags().StringVar(&f.mapping, "mapping", "", "mapping to bind (required)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "list what would be linked; bind nothing")
	cmd.Flags().StringVar(&f.format, "format", "table", "output: table or json")
	cmd.Flags().IntVar(&f.limit, "limit", 1000, "records listed at most (counts are never capped; -1: all)")
	return cmd
}

func runBind(ctx context.Context, env *Env, f bindFlags) error {
	switch {
	case f.mapping == "":
		return usageError{fmt.Errorf("--mapping is required")}
	case f.format != "table" && f.format != "json":
		return usageError{fmt.Errorf("--format %q: want table or json", f.format)}
	case f.limit == 0 || f.limit < -1:
		return usageError{fmt.Errorf("--limit %d: want a positive number, or -1 for all", f.limit)}
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openInspect(ctx, env, f.config, f.dryRun, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	var rep *engine.BindReport
	for _, c := range a.conns {
		var ms []forcesync.Mapping
		mine := false
		for _, p := range c.pipes {
			ms = append(ms, p.Mapping)
			mine = mine || p.Mapping.Name == f.mapping
		}
		if !mine {
			continue
		}
		eng, err := engine.New(ctx, a.store, c.api, ms, c.ecfg)
		if err != nil {
			return err
		}
		if rep, err = eng.Bind(ctx, f.mapping, engine.BindOptions{DryRun: f.dryRun, Records: f.limit}); err != nil {
			if code := forcesync.ErrorCode(err); code == forcesync.ENotFound || code == forcesync.EInvalid {
				return usageError{err}
			}
			return err
		}
	}
	if rep == nil {
		return usageError{fmt.Errorf("no mapping %q in %s", f.mapping, f.config)}
	}
	if f.format == "json" {
		e := json.NewEncoder(env.Stdout)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}
	writeBindTable(env.Stdout, rep)
	return nil
}

func writeBindTable(w io.Writer, rep *engine.BindReport) {
	by := rep.MatchField
	if by == "" {
		by = "nothing (binding-only mapping)"
	}
	verb := "bound"
	if rep.DryRun {
		verb = "would bind (dry run)"
	}
	unreadable := ""
	if n := rep.Counts[engine.BindUnreadable]; n > 0 {
		unreadable = fmt.Sprintf(", unreadable %d (not bound: stored fields cannot be read; send them again)", n)
	}
	fmt.Fprintf(w, "Bind %s (%s, matched by %s): link %d, create %d, ambiguous %d%s; %s %d; %d API calls\n",
		rep.Mapping, rep.Object, by, rep.Counts[engine.BindLink], rep.Counts[engine.BindCreate], rep.Counts[engine.BindAmbiguous],
		unreadable, verb, boundOrLinks(rep), rep.APICalls)
	if len(rep.Records) == 0 {
		fmt.Fprintln(w, "  no unbound source records")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tACTION\tMATCH\tSALESFORCE ID\tREASON")
	for _, r := range rep.Records {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Key, r.Action, dash(r.Match), dash(strings.Join(r.SalesforceIDs, ",")), dash(r.Reason))
	}
	tw.Flush()
	if rep.Truncated {
		fmt.Fprintln(w, "  (list truncated: --limit -1 lists all)")
	}
}

func boundOrLinks(rep *engine.BindReport) int {
	if rep.DryRun {
		return rep.Counts[engine.BindLink]
	}
	return rep.Bound
}
