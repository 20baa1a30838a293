package filepush

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/ingest"
	"golang.org/x/sync/errgroup"
)

// Engine is what a push needs of an engine: its compiled mappings, and
// pushing its backlog.
type Engine interface {
	Pipes() []*engine.Pipe
	// DrainLarge pushes the mappings whose backlog holds at least min items.
	DrainLarge(ctx context.Context, min int) (int, error)
	// Drain pushes until nothing is due.
	Drain(ctx context.Context) (int, error)
	// BulkBatch is the most records one claim (one Bulk job) takes.
	BulkBatch() int
	// Lease is how long the engine's claims are leased.
	Lease() time.Duration
	// OnSettled sets the hook told what each pushed record came to.
	OnSettled(func([]engine.Settled))
	// FileJobOK, FileUpsert and RecoverGoneJobs serve the direct path
	// (direct.go): Bulk jobs fed straight from the file.
	FileJobOK(p *engine.Pipe) bool
	BulkThreshold() int
	FileUpsert(ctx context.Context, p *engine.Pipe, fields []string, recs iter.Seq2[map[string]any, error]) (map[string]engine.Result, *forcesync.Run, error)
	RecoverGoneJobs(ctx context.Context, gone func(owner string) bool)
}

// Options say what to push and how. The zero value of each optional field
// is its default.
type Options struct {
	Source string
	// KeyField is the field (CSV column) holding the record key; "" means "id".
	KeyField string
	File     string
	// Format is "csv" or "ndjson".
	Format string
	// Restart ignores the checkpoint and starts from the first row.
	Restart bool
	// Chunk is how many rows are compared and accepted per transaction.
	// Zero means 5,000.
	Chunk int
	// ProgressEvery is how often plain progress lines are printed when Out
	// is not a terminal. Zero means five seconds.
	ProgressEvery time.Duration
	// Out receives progress and notes; Err receives bad rows. Nil discards.
	Out, Err io.Writer
	// ChunkHook, when set (tests), is called after each checkpoint, with
	// the data rows consumed so far.
	ChunkHook func(rows int64)
	// JobRows caps the rows of one of the push's own Bulk jobs (direct.go);
	// zero means the engines' BulkBatch.
	JobRows int
	// NoDirect sends every changed row through the store's outbox and the
	// engine, never in the push's own Bulk jobs (direct.go).
	NoDirect bool
}

// Summary is what a push did.
type Summary struct {
	Mappings []string
	// Rows is the data rows read this run (after those skipped by resuming).
	Rows int64
	// Resumed is the rows an earlier run had made durable, skipped.
	Resumed int64
	// Bad is the rows refused (listed on Err, up to MaxBadShown).
	Bad, BadShown int64
	// Accepted is the rows taken for pushing: written to the store's
	// outbox, or streamed into the push's own Bulk jobs (Streamed of them).
	Accepted, Streamed int64
	// Settled is the rows dropped before writing: nothing changed.
	Settled int64
	// Fates counts what each record of the push came to, once per record
	// and mapping, by its last fate; rows dropped as unchanged before
	// writing count as engine.FateUnchanged. The counts add up to Records.
	Fates   map[engine.Fate]int
	Records int
	// APICalls sums the API calls of the engine's runs during the push.
	APICalls int
	// Interrupted is set when ctx ended before the file was done.
	Interrupted bool
	Elapsed     time.Duration
}

// MaxBadShown caps the bad rows listed on Options.Err.
const MaxBadShown = 20

// Push reads the file and pushes its rows through every mapping of the
// source, then returns what it did. When ctx ends it stops, keeps what is
// durable (the checkpoint says how far) and returns the summary with
// Interrupted set and ctx's error.
func Push(ctx context.Context, st forcesync.Store, engines []Engine, o Options) (*Summary, error) {
	if o.KeyField == "" {
		o.KeyField = "id"
	}
	if o.Chunk <= 0 {
		o.Chunk = 5000
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 5 * time.Second
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	p := &push{o: o, st: st, engines: engines}
	var pipeEngine Engine
	for _, e := range engines {
		for _, pipe := range e.Pipes() {
			if pipe.Mapping.Source == o.Source {
				p.pipes = append(p.pipes, pipe)
				p.sum.Mappings = append(p.sum.Mappings, pipe.Mapping.Name)
				pipeEngine = e
			}
		}
		p.jobSize = max(p.jobSize, e.BulkBatch())
	}
	if len(p.pipes) == 0 {
		return nil, forcesync.Errorf(forcesync.EInvalid, "no mapping reads source %q: nothing to push", o.Source)
	}
	if o.JobRows > 0 {
		p.jobSize = o.JobRows
	}
	p.settled, _ = forcesync.StoreAs[forcesync.SettledReader](st)
	if rec, ok := forcesync.StoreAs[forcesync.PushRecorder](st); ok && p.settled != nil && len(p.pipes) == 1 &&
		!o.NoDirect && pipeEngine.FileJobOK(p.pipes[0]) {
		pipe := p.pipes[0]
		p.direct = &directPath{eng: pipeEngine, pipe: pipe, rec: rec, fields: pipe.Compiled.TargetFields(),
			fold: !pipe.Compiled.ExternalIDCaseSensitive(), min: pipeEngine.BulkThreshold()}
	}
	p.tally = newTally()
	for _, e := range engines {
		e.OnSettled(p.tally.add)
	}
	return p.run(ctx)
}

type push struct {
	o       Options
	st      forcesync.Store
	engines []Engine
	pipes   []*engine.Pipe
	settled forcesync.SettledReader
	jobSize int
	sum     Summary
	tally   *tally
	direct  *directPath // nil: every changed row goes through the outbox

	accepted, settledRows, bad, streamed atomic.Int64
}

func (p *push) run(ctx context.Context) (*Summary, error) {
	o := p.o
	file, err := os.Open(o.File)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	cpPath := ingest.CheckpointPath(o.File)
	var skip int64
	if o.Restart {
		_ = os.Remove(cpPath)
	} else if cp, note := ingest.LoadCheckpoint(cpPath, fi, o.Source); cp != nil {
		skip = cp.Rows
		fmt.Fprintf(o.Out, "Resuming: %d rows were accepted by an earlier run (%s); skipping them. --restart starts over.\n", skip, cpPath)
	} else if note != "" {
		fmt.Fprintln(o.Out, note)
	}
	cp := &ingest.Checkpoint{File: o.File, Source: o.Source, Size: fi.Size(), Modified: fi.ModTime().UTC(), Rows: skip}
	p.sum.Resumed = skip

	br := bufio.NewReaderSize(file, 1<<20)
	totalRows := ingest.CountLines(o.File)
	var rows ingest.Reader
	if o.Format == "csv" {
		c, err := ingest.NewCSV(br, o.Source, o.KeyField)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.File, err)
		}
		rows = c
		totalRows-- // the header
	} else {
		rows = ingest.NewNDJSON(br, o.Source, o.KeyField)
	}
	if totalRows >= skip {
		totalRows -= skip
	}

	lastRun, err := p.st.Runs(ctx, 1)
	if err != nil {
		return nil, err
	}
	var baseRun int64
	if len(lastRun) > 0 {
		baseRun = lastRun[0].ID
	}
	start := time.Now()
	prog := newProgress(o.Out, totalRows, o.ProgressEvery)
	baseBacklog, err := p.backlog(ctx)
	if err != nil {
		return nil, err
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		p.showProgress(ctx, prog, baseBacklog, stopProgress)
	}()

	readDone := make(chan struct{})
	bigBacklog := make(chan struct{}, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(readDone)
		return p.read(gctx, rows, cp, cpPath, skip, bigBacklog)
	})
	g.Go(func() error { return p.drain(gctx, bigBacklog, readDone) })
	runErr := g.Wait()
	close(stopProgress)
	<-progressDone
	if runErr == nil {
		prog.finish()
	}
	p.sum.Interrupted = runErr != nil && ctx.Err() != nil
	if runErr != nil && !p.sum.Interrupted {
		return nil, runErr
	}
	sctx := context.WithoutCancel(ctx)
	runs, err := p.st.Runs(sctx, 1_000_000)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.ID <= baseRun {
			break
		}
		p.sum.APICalls += r.APICalls
	}
	p.sum.Streamed = p.streamed.Load()
	p.sum.Accepted = p.accepted.Load() + p.sum.Streamed
	p.sum.Settled = p.settledRows.Load()
	p.sum.Fates = p.tally.counts()
	p.sum.Fates[engine.FateUnchanged] += int(p.sum.Settled) * len(p.sum.Mappings)
	for _, n := range p.sum.Fates {
		p.sum.Records += n
	}
	p.sum.Bad = p.bad.Load()
	p.sum.Elapsed = time.Since(start)
	if p.sum.Interrupted {
		return &p.sum, fmt.Errorf("interrupted after %d rows of %s were made durable; run the same command again to resume: %w", cp.Rows, o.File, ctx.Err())
	}
	// The whole file is in: the next push of it starts from the top (its
	// unchanged rows are dropped before they are written).
	_ = os.Remove(cpPath)
	return &p.sum, nil
}

// read consumes the file in chunks: each chunk's unchanged rows are
// dropped, the rest either streamed into the open direct job (direct.go)
// or accepted into the outbox, and the checkpoint advanced once they are
// durable — for rows of a direct job, once the job's answers are recorded.
// It signals bigBacklog when a Bulk job's worth was accepted into the
// outbox since the last signal.
func (p *push) read(ctx context.Context, rows ingest.Reader, cp *ingest.Checkpoint, cpPath string, skip int64, bigBacklog chan<- struct{}) error {
	o := p.o
	var consumed, sinceSignal int64 // data rows read, good or bad
	batch := make([]forcesync.Change, 0, o.Chunk)
	checkpoint := func() error {
		// Durable in the store before the checkpoint says so.
		cp.Rows = consumed
		if err := cp.Save(cpPath); err != nil {
			return err
		}
		if o.ChunkHook != nil {
			o.ChunkHook(consumed)
		}
		return nil
	}
	if p.direct != nil {
		// Jobs a killed push left open or running are settled first.
		p.direct.eng.RecoverGoneJobs(ctx, OwnerGone)
		defer p.dropJob()
	}
	flush := func(last bool) error {
		if len(batch) > 0 {
			changed, stored, err := p.dropSettled(ctx, batch)
			if err != nil {
				return fmt.Errorf("compare rows up to %d with the store: %w", consumed, err)
			}
			p.settledRows.Add(int64(len(batch) - len(changed)))
			changed, err = p.sendDirect(ctx, changed, stored)
			if err != nil {
				return err
			}
			if len(changed) > 0 {
				if _, err := p.st.Accept(ctx, p.sum.Mappings, changed); err != nil {
					return fmt.Errorf("accept rows up to %d: %w", consumed, err)
				}
				p.accepted.Add(int64(len(changed)))
				sinceSignal += int64(len(changed))
				if sinceSignal >= int64(p.jobSize) {
					sinceSignal = 0
					select {
					case bigBacklog <- struct{}{}:
					default:
					}
				}
			}
			clear(batch)
			batch = batch[:0]
		}
		if p.direct != nil && p.direct.job != nil {
			if !last && len(p.direct.job.rows)+o.Chunk <= p.jobSize {
				return nil // the job takes the next chunk too: checkpoint after it
			}
			if err := p.finishJob(ctx); err != nil {
				return err
			}
		}
		return checkpoint()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return flush(true)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", o.File, err)
		}
		consumed++
		if consumed <= skip {
			continue
		}
		p.sum.Rows++
		if row.Bad != "" {
			if n := p.bad.Add(1); n <= MaxBadShown {
				p.sum.BadShown = n
				fmt.Fprintf(o.Err, "%s:%d: skipped row: %s\n", o.File, row.Line, row.Bad)
			}
			continue
		}
		row.Change.Priority = forcesync.PriorityBackfill
		row.Change.Received = time.Now()
		batch = append(batch, row.Change)
		if len(batch) >= o.Chunk {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

// sendDirect streams the changes the direct path takes into the open job
// (opening one when needed) and returns the rest, for the outbox.
func (p *push) sendDirect(ctx context.Context, changed []forcesync.Change, stored map[string]forcesync.Settled) ([]forcesync.Change, error) {
	d := p.direct
	if d == nil || len(changed) == 0 {
		return changed, nil
	}
	if d.job == nil {
		d.job = p.newJob()
	}
	rest := changed[:0]
	var recs []map[string]any
	slowKeys := map[string]bool{}
	for i := range changed {
		c := &changed[i]
		if rec, ok := p.take(c, stored, slowKeys); ok {
			recs = append(recs, rec)
			continue
		}
		slowKeys[c.Key] = true
		rest = append(rest, *c)
	}
	if len(recs) > 0 {
		if err := p.send(ctx, d.job, recs); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// drain pushes a Bulk job's worth whenever the reader says one is waiting,
// and everything once the file is read.
func (p *push) drain(ctx context.Context, bigBacklog <-chan struct{}, readDone <-chan struct{}) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-bigBacklog:
			for _, e := range p.engines {
				if _, err := e.DrainLarge(ctx, p.jobSize); err != nil {
					return err
				}
			}
		case <-readDone:
			return p.finish(ctx)
		}
	}
}

// finish drains every engine until no record of the push is pending. Work
// another process holds — the leases of an earlier push that was killed —
// is waited for until it is claimable (its lease ran out) and then pushed,
// or until twice the longest lease passed: then it is left to its holder
// or the next push or serve, and the summary shows it pending.
func (p *push) finish(ctx context.Context) error {
	var lease time.Duration
	for _, e := range p.engines {
		lease = max(lease, e.Lease())
	}
	deadline := time.Now().Add(2 * lease)
	for {
		n := 0
		for _, e := range p.engines {
			k, err := e.Drain(ctx)
			if err != nil {
				return err
			}
			n += k
		}
		pending := 0
		for _, m := range p.sum.Mappings {
			c, err := p.st.Counts(ctx, m)
			if err != nil {
				return err
			}
			pending += c[forcesync.StatePending]
		}
		if pending == 0 {
			return nil
		}
		if n > 0 {
			deadline = time.Now().Add(2 * lease)
			continue
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(p.o.Out, "%d records are still pending (leased by another process, or the API budget is paused); the next push or forcesync serve will push them.\n", pending)
			return nil
		}
		t := time.NewTimer(min(lease/10, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// dropSettled returns the changes that would change something: those whose
// stored record differs, or that some mapping has not pushed as they are,
// with the stored state it read (nil without a SettledReader). Each
// change's fields are encoded once here and handed on.
func (p *push) dropSettled(ctx context.Context, batch []forcesync.Change) ([]forcesync.Change, map[string]forcesync.Settled, error) {
	for i := range batch {
		c := &batch[i]
		if c.FieldsJSON == nil && c.Fields != nil {
			b, err := json.Marshal(c.Fields)
			if err != nil {
				return nil, nil, forcesync.Errorf(forcesync.EInvalid, "row %s: fields: %v", c.Key, err)
			}
			c.FieldsJSON = b
		}
	}
	if p.settled == nil {
		return batch, nil, nil
	}
	keys := make([]string, 0, len(batch))
	for i := range batch {
		if batch[i].Op == forcesync.OpUpsert {
			keys = append(keys, batch[i].Key)
		}
	}
	if len(keys) == 0 {
		return batch, nil, nil
	}
	stored, err := p.settled.Settled(ctx, p.o.Source, p.sum.Mappings, keys)
	if err != nil {
		return nil, nil, err
	}
	changed := batch[:0:0]
	seen := make(map[string]bool, len(batch))
	for i := range batch {
		c := batch[i]
		if seen[c.Key] || !p.unchanged(&c, stored) {
			// A key twice in one chunk goes to Accept, which keeps the newest.
			changed = append(changed, c)
		}
		seen[c.Key] = true
	}
	return changed, stored, nil
}

// unchanged reports whether pushing c would change nothing: the store holds
// the same fields, and every mapping has the record synced with the same
// payload (or skipped by its filter) with nothing queued.
func (p *push) unchanged(c *forcesync.Change, stored map[string]forcesync.Settled) bool {
	if c.Op != forcesync.OpUpsert {
		return false
	}
	if p.direct != nil && p.direct.job != nil && p.direct.job.keys[c.Key] {
		return false // sent in the open job: the store does not show it yet
	}
	s, ok := stored[c.Key]
	if !ok || s.Deleted || s.Fields != string(c.FieldsJSON) || (c.Version != 0 && c.Version > s.Version) {
		return false
	}
	for _, pipe := range p.pipes {
		sm, ok := s.Mappings[pipe.Mapping.Name]
		if !ok || sm.Queued {
			return false
		}
		cm := pipe.Compiled
		pass, err := cm.Filter(c.Fields)
		if err != nil {
			return false
		}
		switch sm.State {
		case forcesync.StateSkipped:
			if pass {
				return false
			}
		case forcesync.StateSynced:
			if !pass || sm.SalesforceID == "" {
				return false
			}
			if !cm.CanUpdate() {
				continue // bound and never updated: nothing to send
			}
			pl, err := cm.PayloadFor(c.Key, c.Fields, false)
			if err != nil || pl.Fingerprint != sm.Fingerprint {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// backlog sums the queued work of the mappings.
func (p *push) backlog(ctx context.Context) (int64, error) {
	var n int64
	for _, m := range p.sum.Mappings {
		k, err := p.st.Backlog(ctx, m)
		if err != nil {
			return 0, err
		}
		n += int64(k)
	}
	return n, nil
}

// showProgress samples the store until stop: rows done are those settled
// before writing plus those accepted whose work is no longer queued.
func (p *push) showProgress(ctx context.Context, prog *progress, baseBacklog int64, stop <-chan struct{}) {
	every := p.o.ProgressEvery
	if prog.bar != nil {
		every = 200 * time.Millisecond
	}
	tick := time.NewTicker(min(every, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		backlog, err := p.backlog(ctx)
		if err != nil {
			continue
		}
		acc := p.accepted.Load()
		queued := (backlog - baseBacklog) / int64(len(p.sum.Mappings))
		streamed := p.streamed.Load()
		prog.set(p.settledRows.Load()+streamed+max(0, min(acc-queued, acc)), acc+streamed)
	}
}
