package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/filepush"
	"github.com/spf13/cobra"
)

func init() { register(newPushCmd) }

type pushFlags struct {
	config  string
	source  string
	file    string
	format  string
	restart bool
	chunk   int
	// jobRows caps the records of one Bulk job (and so the rows a job
	// holds in memory and the rows a kill can send again).
	jobRows int
	// progressEvery is how often plain (non-terminal) progress lines are
	// printed; zero means five seconds.
	progressEvery time.Duration
	// dryRun prints what the push would do, writing and sending nothing.
	dryRun bool
}

func newPushCmd(env *Env) *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push a CSV or NDJSON file of records to Salesforce through a source's mappings",
		Long: `Reads a file of any size as records of one source and pushes them through the
source's mappings. CSV files take field names from their header row; NDJSON lines
are either {"key","op","version","fields"} objects (as the ingest API takes) or
plain records holding the source's key field.

Rows that would change nothing (same data, already pushed) are dropped before
anything is written; the rest are accepted in chunks and pushed a Bulk job's worth
at a time, so a large file costs a few API calls.

The run is resumable: rows made durable so far are noted in FILE.forcesync-progress,
and running the same command again skips them (--restart ignores the note).
Failures are written to FILE.failures.csv.

--dry-run reads the file and the store and says what the push would do, per
mapping: rows sent (new or matched by External ID, and updates), rows recorded
without a call, rows left to the engine, and the API calls it would spend. It
writes nothing (not even the progress file) and sends nothing to Salesforce; it
signs in and reads the objects' describes to compile the mappings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.source == "" || f.file == "" {
				return usageError{errors.New("--source and --file are required")}
			}
			if f.format == "" {
				switch strings.ToLower(filepath.Ext(f.file)) {
				case ".csv":
					f.format = "csv"
				case ".ndjson", ".jsonl":
					f.format = "ndjson"
				default:
					return usageError{fmt.Errorf("cannot tell the format of %s from its extension; use --format csv or ndjson", f.file)}
				}
			}
			if f.format != "csv" && f.format != "ndjson" {
				return usageError{fmt.Errorf("--format %q: want csv or ndjson", f.format)}
			}
			if f.chunk <= 0 {
				return usageError{fmt.Errorf("--chunk %d: want a positive number", f.chunk)}
			}
			if f.jobRows < f.chunk {
				return usageError{fmt.Errorf("--job-rows %d: want at least --chunk (%d)", f.jobRows, f.chunk)}
			}
			if f.progressEvery <= 0 {
				return usageError{fmt.Errorf("--progress-every %v: want a positive duration, e.g. 30s", f.progressEvery)}
			}
			if f.dryRun {
				return runPushDry(cmd.Context(), env, f)
			}
			return runPush(cmd.Context(), env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "forcesync.yaml", "config file")
	fl.StringVar(&f.source, "source", "", "source the records belong to (see the config's sources)")
	fl.StringVar(&f.file, "file", "", "CSV, NDJSON or JSONL file of records")
	fl.StringVar(&f.format, "format", "", "csv or ndjson (default: from the file's extension)")
	fl.BoolVar(&f.restart, "restart", false, "ignore the progress file and start from the first row")
	fl.IntVar(&f.chunk, "chunk", 1000, "rows compared and accepted into the store per transaction (chunks are judged ahead in parallel: larger ones hold more memory)")
	fl.IntVar(&f.jobRows, "job-rows", pushJobSize, "most records one Bulk job takes; a job's rows are held in memory until Salesforce answers, and the progress file moves past them then")
	fl.DurationVar(&f.progressEvery, "progress-every", 5*time.Second, "how often progress lines are printed when the output is not a terminal")
	fl.BoolVar(&f.dryRun, "dry-run", false, "say what the push would do, per mapping, without writing anything or sending anything to Salesforce")
	return cmd
}

// pushChunkHook, when set by a test, is called after each chunk is accepted
// and checkpointed, with the rows consumed so far.
var pushChunkHook func(rows int64)

// pushJobSize is the most records one Bulk job of a file push takes: one
// job for 100,000 changed rows, while memory stays bounded by one job's
// records whatever the file's size.
const pushJobSize = 100_000

// pushLease is the longest lease of a file push's claims.
const pushLease = 10 * time.Second

// runPush wires the store and engines to filepush and prints its summary.
func runPush(ctx context.Context, env *Env, f pushFlags) error {
	out := env.Stdout
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openApp(ctx, env, f.config, logger, func(c *engine.Config) {
		c.BulkBatch = f.jobRows
		// Names this process in the Bulk job ledger, so the next push can
		// tell a killed push's jobs from a live one's (filepush.OwnerGone).
		c.Owner = filepush.Owner()
		// Renewed while a batch is in flight: a killed push's work is
		// claimable again by the next one seconds later.
		if c.Lease <= 0 || c.Lease > pushLease {
			c.Lease = pushLease
		}
	})
	if err != nil {
		return err
	}
	defer a.closeStore()
	src := a.cfg.Source(f.source)
	if src == nil {
		return forcesync.Errorf(forcesync.ENotFound, "source %q is not in %s", f.source, f.config)
	}
	mappings := engines(a.engines).MappingsFor(f.source)
	if err := pushable(f, mappings); err != nil {
		return err
	}
	fmt.Fprintf(out, "Pushing %s as source %s through %s\n", f.file, f.source, strings.Join(mappings, ", "))
	es := make([]filepush.Engine, len(a.engines))
	for i, e := range a.engines {
		es[i] = e
	}
	sum, err := filepush.Push(ctx, a.store, es, filepush.Options{
		Source: f.source, KeyField: src.Key, File: f.file, Format: f.format, Restart: f.restart,
		Chunk: f.chunk, JobRows: f.jobRows, ProgressEvery: f.progressEvery, Out: out, Err: env.Stderr, ChunkHook: pushChunkHook,
	})
	if sum == nil {
		return err
	}
	printPushSummary(out, sum)
	sctx := context.WithoutCancel(ctx)
	for _, m := range mappings {
		counts, err := a.store.Counts(sctx, m)
		if err != nil {
			return err
		}
		// The lifecycle's states show when some record is in them, so the
		// line adds up to the mapping's records.
		var life string
		for _, st := range []forcesync.State{forcesync.StateDisabled, forcesync.StateDeprovisioned, forcesync.StateConverted} {
			if n := counts[st]; n > 0 {
				life += fmt.Sprintf(", %s %d", st, n)
			}
		}
		fmt.Fprintf(out, "Mapping %s now: synced %d, skipped %d, held %d, retrying %d, pending %d, deleted %d%s.\n", m,
			counts[forcesync.StateSynced], counts[forcesync.StateSkipped], counts[forcesync.StateHeld],
			counts[forcesync.StateRetrying], counts[forcesync.StatePending], counts[forcesync.StateDeleted], life)
	}
	failures, ferr := filepush.Failures(sctx, a.store, mappings)
	if ferr != nil {
		return ferr
	}
	failPath := f.file + ".failures.csv"
	if len(failures) > 0 {
		if err := filepush.WriteFailures(failPath, failures); err != nil {
			return err
		}
		fmt.Fprintf(out, "%d records of these mappings are held or retrying (from this push or earlier ones): listed in %s (retrying records are retried by forcesync serve).\n", len(failures), failPath)
	} else {
		_ = os.Remove(failPath)
	}
	if err != nil {
		return err
	}
	return pushOutcome(sum)
}

// pushable refuses, before a push (or its dry run) is announced, one with
// nothing to read: no mapping of the source, or no file.
func pushable(f pushFlags, mappings []string) error {
	if len(mappings) == 0 {
		return forcesync.Errorf(forcesync.EInvalid, "no mapping reads source %q in %s: nothing to push", f.source, f.config)
	}
	file, err := filepush.Open(f.file)
	if err != nil {
		return err
	}
	return file.Close()
}

// pushOutcome is the error a push that ran to its end returns when some of
// its rows did not make it, so a script or a scheduler sees it in the exit
// code: bad rows and records Salesforce refused are bad input (3), records
// left retrying after transient failures are an unavailable Salesforce (7).
func pushOutcome(sum *filepush.Summary) error {
	bad, held, retrying := sum.Bad, sum.Fates[engine.FateHeld], sum.Fates[engine.FateRetrying]
	var what []string
	if bad > 0 {
		what = append(what, fmt.Sprintf("%d bad rows not read (listed above)", bad))
	}
	if held > 0 {
		what = append(what, fmt.Sprintf("%d records refused, by Salesforce or by forcesync's checks before a call (held: see the failures file)", held))
	}
	switch {
	case len(what) > 0:
		return forcesync.Errorf(forcesync.EInvalid, "%s", strings.Join(what, " and "))
	case retrying > 0:
		return forcesync.Errorf(forcesync.EUnavailable, "%d records are left retrying after transient failures: forcesync serve, or this push run again, sends them", retrying)
	}
	return nil
}

func printPushSummary(out io.Writer, sum *filepush.Summary) {
	fmt.Fprintf(out, "\nAccepted %d rows", sum.Accepted)
	if sum.Streamed > 0 {
		fmt.Fprintf(out, " (%d by the push's own Bulk jobs)", sum.Streamed)
	}
	if sum.Resumed > 0 {
		fmt.Fprintf(out, " (%d rows skipped: accepted by an earlier run)", sum.Resumed)
	}
	fmt.Fprintf(out, "; %d bad rows", sum.Bad)
	if sum.Bad > sum.BadShown {
		fmt.Fprintf(out, " (first %d listed on stderr)", sum.BadShown)
	}
	fmt.Fprintf(out, "; %d unchanged rows not written", sum.Settled)
	// One result per record and mapping: with several mappings the count
	// is not the file's records, so the line says what it counts.
	what := "records"
	if n := len(sum.Mappings); n > 1 {
		what = fmt.Sprintf("results over %d mappings (one per record and mapping)", n)
	}
	f := sum.Fates
	fmt.Fprintf(out, ".\nThis run: %d %s: created %d, updated %d, unchanged (no call) %d, deleted %d, skipped %d, held %d, retrying %d; %d API calls in %s.\n",
		sum.Records, what, f[engine.FateCreated], f[engine.FateUpdated], f[engine.FateUnchanged], f[engine.FateDeleted],
		f[engine.FateSkipped], f[engine.FateHeld], f[engine.FateRetrying], sum.APICalls, sum.Elapsed.Round(time.Millisecond))
}
