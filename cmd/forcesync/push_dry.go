package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/filepush"
)

// runPushDry is push --dry-run: the config opened as plan opens it (no
// engine writes), the file read and judged against the store by the
// push's own code, and what it would do printed.
func runPushDry(ctx context.Context, env *Env, f pushFlags) error {
	out := env.Stdout
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openInspect(ctx, env, f.config, true, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	src := a.cfg.Source(f.source)
	if src == nil {
		return forcesync.Errorf(forcesync.ENotFound, "source %q is not in %s", f.source, f.config)
	}
	var es []filepush.Engine
	var mappings []string
	for _, c := range a.conns {
		cfg := c.ecfg
		cfg.BulkBatch = f.jobRows
		es = append(es, engine.ForPlanning(c.api, c.pipes, cfg))
		for _, p := range c.pipes {
			if p.Mapping.Source == f.source && p.Mapping.Pushes() {
				mappings = append(mappings, p.Mapping.Name)
			}
		}
	}
	if err := pushable(f, mappings); err != nil {
		return err
	}
	fmt.Fprintf(out, "Dry run: what pushing %s as source %s through %s would do (nothing is written or sent)\n",
		f.file, f.source, strings.Join(mappings, ", "))
	sum, err := filepush.Push(ctx, a.store, es, filepush.Options{
		Source: f.source, KeyField: src.Key, File: f.file, Format: f.format, Restart: f.restart,
		Chunk: f.chunk, JobRows: f.jobRows, Out: out, Err: env.Stderr, DryRun: true,
	})
	if err != nil {
		return err
	}
	printPushPlan(out, sum)
	if sum.Bad > 0 {
		return forcesync.Errorf(forcesync.EInvalid, "%d bad rows would not be read (listed above)", sum.Bad)
	}
	return nil
}

func printPushPlan(out io.Writer, sum *filepush.Summary) {
	pl := sum.Plan
	fmt.Fprintf(out, "\nRows read: %d", sum.Rows)
	if sum.Resumed > 0 {
		fmt.Fprintf(out, " (after %d rows an earlier run accepted; --restart reads them too)", sum.Resumed)
	}
	fmt.Fprintf(out, "; %d bad; %d unchanged (not written, no call); %d changed", sum.Bad, sum.Settled, pl.Changed)
	if pl.Repeated > 0 {
		fmt.Fprintf(out, " (%d of them repeat a key changed earlier in the file)", pl.Repeated)
	}
	fmt.Fprintln(out, ".")
	calls := 0
	for _, l := range pl.Lanes {
		fmt.Fprintf(out, "Mapping %s: send %d (%d new or matched by External ID, %d updates); %d recorded without a call (%d same payload, %d out of the filter); %d left to the engine",
			l.Mapping, l.Send, l.New, l.Send-l.New, l.Same+l.Skipped, l.Same, l.Skipped, l.Engine)
		if l.Queued > 0 {
			fmt.Fprintf(out, "; %d already queued", l.Queued)
		}
		fmt.Fprintf(out, ".\n  About %d API calls: %d Bulk jobs, %d Collections calls.\n", l.Calls, l.BulkJobs, l.Collections)
		calls += l.Calls
	}
	fmt.Fprintf(out, "About %d API calls in all, plus sign-in and a describe per object (a Bulk job costs a poll more each time Salesforce is still working).\n", calls)
	if len(pl.Examples) == 0 {
		return
	}
	fmt.Fprintf(out, "\nFirst %d changed rows:\n", len(pl.Examples))
	for _, ex := range pl.Examples {
		var fates []string
		for k, fate := range ex.Fates {
			fates = append(fates, pl.Lanes[k].Mapping+": "+fate)
		}
		what := strings.Join(ex.Changes, "; ")
		if ex.Op != "" {
			// Looked up only to be sent: a delete or disable row carries
			// no fields to compare.
			what = "op " + string(ex.Op) + " (no fields to compare)"
		} else if ex.New {
			what = "not in the store yet"
		} else if what == "" {
			what = "fields as stored (pushed again: not synced under a mapping, or its payload changed)"
		}
		fmt.Fprintf(out, "  %s (%s): %s\n", ex.Key, strings.Join(fates, ", "), what)
	}
}
