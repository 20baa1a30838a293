package filepush

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"strconv"
	"strings"
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
	FileJobGuard(p *engine.Pipe) string
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
	// Zero means 1,000.
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
	// DryRun reads the file and works out what a push would do
	// (Summary.Plan) without writing anything or calling Salesforce. The
	// progress file is read, never written or removed.
	DryRun bool
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
	// outbox, or taken by the push's own Bulk jobs (Streamed of them: sent,
	// or recorded with them without a call; a lane may still queue some
	// for its engine, such as those Salesforce answered with a retryable
	// error).
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
	// Plan is what the push would do, for a dry run (Options.DryRun).
	Plan *Plan
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
		o.Chunk = 1000
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
	var pipeEngines []Engine // the engine of each of p.pipes
	for _, e := range engines {
		for _, pipe := range e.Pipes() {
			if pipe.Mapping.Source == o.Source {
				p.pipes = append(p.pipes, pipe)
				p.sum.Mappings = append(p.sum.Mappings, pipe.Mapping.Name)
				pipeEngines = append(pipeEngines, e)
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
	if rec, ok := forcesync.StoreAs[forcesync.PushRecorder](st); ok && p.settled != nil && !o.NoDirect {
		d := &directPath{rec: rec}
		for i, pipe := range p.pipes {
			e := pipeEngines[i]
			if !e.FileJobOK(pipe) {
				d = nil
				break
			}
			d.lanes = append(d.lanes, &lane{eng: e, pipe: pipe, fields: pipe.Compiled.TargetFields(),
				fold: !pipe.Compiled.ExternalIDCaseSensitive(), guard: e.FileJobGuard(pipe)})
			d.min = max(d.min, e.BulkThreshold())
		}
		p.direct = d
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
	// gen counts the push's committed store writes (pipeline.go).
	gen atomic.Uint64
}

// Open opens the file to push; one that does not exist is ENotFound (a
// caller checks before it announces the push).
func Open(path string) (*os.File, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, forcesync.Errorf(forcesync.ENotFound, "the file %s does not exist", path)
	}
	return file, err
}

func (p *push) run(ctx context.Context) (*Summary, error) {
	o := p.o
	file, err := Open(o.File)
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
		if !o.DryRun {
			_ = os.Remove(cpPath)
		}
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
		p.unreadColumns(c.Columns())
	} else {
		if fi.Size() == 0 {
			// Like an empty CSV: an export that wrote nothing is a mistake
			// to see, not a push of nothing.
			return nil, forcesync.Errorf(forcesync.EInvalid, "%s: the file is empty: an NDJSON file holds one record a line", o.File)
		}
		rows = ingest.NewNDJSON(br, o.Source, o.KeyField)
	}
	if totalRows >= skip {
		totalRows -= skip
	}

	if o.DryRun {
		start := time.Now()
		if err := p.plan(ctx, rows, skip); err != nil {
			return nil, err
		}
		p.sum.Settled = p.settledRows.Load()
		p.sum.Bad = p.bad.Load()
		p.sum.Elapsed = time.Since(start)
		return &p.sum, nil
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
	if p.sum.APICalls, err = p.apiCallsSince(sctx, baseRun); err != nil {
		return nil, err
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

// read consumes the file in chunks, through the stages of pipeline.go:
// each chunk's unchanged rows are dropped, the rest either streamed into
// the open direct job (direct.go) or accepted into the outbox, and the
// checkpoint advanced once they are durable — for rows of a direct job,
// once the job's answers are recorded. It signals bigBacklog when a Bulk
// job's worth was accepted into the outbox since the last signal.
func (p *push) read(ctx context.Context, rows ingest.Reader, cp *ingest.Checkpoint, cpPath string, skip int64, bigBacklog chan<- struct{}) error {
	o := p.o
	var sinceSignal int64
	checkpoint := func(consumed int64) error {
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
		seen := map[Engine]bool{}
		for _, l := range p.direct.lanes {
			if !seen[l.eng] {
				seen[l.eng] = true
				l.eng.RecoverGoneJobs(ctx, OwnerGone)
			}
		}
		defer p.dropJob()
	}

	ordered, stopStages := p.startStages(ctx, rows, skip)
	defer stopStages()

	take := func(c *chunk) error {
		if c.err != nil {
			return c.err
		}
		if c.jerr == nil && c.gen != p.gen.Load() {
			p.judgeChunk(ctx, c) // the store changed since: judge again
		}
		if c.jerr != nil {
			return fmt.Errorf("compare rows up to %d with the store: %w", c.consumed, c.jerr)
		}
		changed, err := p.sendDirect(ctx, c)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			if err := p.accept(ctx, p.sum.Mappings, changed, true); err != nil {
				return fmt.Errorf("accept rows up to %d: %w", c.consumed, err)
			}
			sinceSignal += int64(len(changed))
			if sinceSignal >= int64(p.jobSize) {
				sinceSignal = 0
				select {
				case bigBacklog <- struct{}{}:
				default:
				}
			}
		}
		if p.direct != nil && p.direct.open() {
			if !c.last && p.direct.rows()+o.Chunk <= p.jobSize {
				return nil // the job takes the next chunk too: checkpoint after it
			}
			if err := p.finishJob(ctx, c.last); err != nil {
				return err
			}
		}
		return checkpoint(c.consumed)
	}
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := take(c); err != nil {
			return err
		}
		if c.last {
			return nil
		}
	}
	return ctx.Err()
}

// accept queues changes in the store's outbox for the engines of
// mappings; count says whether they count as accepted rows. Like every
// store write of the push, it moves the generation (pipeline.go).
func (p *push) accept(ctx context.Context, mappings []string, cs []forcesync.Change, count bool) error {
	_, err := p.st.Accept(ctx, mappings, cs)
	p.gen.Add(1)
	if err != nil {
		return err
	}
	if count {
		p.accepted.Add(int64(len(cs)))
	}
	return nil
}

// sendDirect streams the rows of c the direct path takes into the open
// jobs (opening them when needed) and returns the changed rows left for
// the outbox. Rows judged unchanged are counted as settled, except those
// whose key is in the open jobs: the store does not show those rows yet,
// so they are changed after all.
func (p *push) sendDirect(ctx context.Context, c *chunk) ([]forcesync.Change, error) {
	d := p.direct
	var rest []forcesync.Change
	var recs [][]map[string]any // per lane
	var slowKeys map[string]bool
	for i := range c.rows {
		r := &c.rows[i]
		if !c.keep[i] {
			if d == nil || !d.holds(r.Key) {
				p.settledRows.Add(1)
				continue
			}
			c.keep[i] = true
			for k, l := range d.lanes {
				c.verdicts[i*len(d.lanes)+k] = p.judge(l, r, c.stored)
			}
		}
		if d != nil {
			if !d.open() {
				d.openSet()
			}
			if slowKeys == nil {
				slowKeys = map[string]bool{}
				recs = make([][]map[string]any, len(d.lanes))
			}
			vs := c.verdicts[i*len(d.lanes) : (i+1)*len(d.lanes)]
			if p.admit(vs, slowKeys) {
				for k := range vs {
					if vs[k].ok {
						recs[k] = append(recs[k], vs[k].rec)
					}
					vs[k] = verdict{}
				}
				continue
			}
			if d.holds(r.Key) {
				// An earlier row of the key is in the open set: this
				// one must land after it, when the set is recorded.
				d.later = append(d.later, *r)
				continue
			}
			slowKeys[r.Key] = true
		}
		rest = append(rest, *r)
	}
	for k := range recs {
		if len(recs[k]) > 0 {
			if err := p.send(ctx, d.lanes[k], recs[k]); err != nil {
				return nil, err
			}
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
			// A pending record has an outbox row: an empty outbox (the
			// usual end of a push) spares counting every status.
			if n, err := p.st.Backlog(ctx, m); err != nil {
				return err
			} else if n == 0 {
				continue
			}
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

// unchanged reports whether pushing c would change nothing: the store holds
// the same fields, and every mapping has the record synced with the same
// payload (or skipped by its filter) with nothing queued.
func (p *push) unchanged(c *forcesync.Change, stored map[string]forcesync.Settled) bool {
	if c.Op != forcesync.OpUpsert {
		return false
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

// unreadColumns says which of the file's columns no mapping of the source
// reads: their values are stored with the records but never reach
// Salesforce, which is what a misspelt header or a missing field row looks
// like.
func (p *push) unreadColumns(cols []string) {
	var unread []string
	for _, col := range cols {
		read := false
		for _, pipe := range p.pipes {
			read = read || pipe.Compiled.ReadsField(col)
		}
		if !read {
			unread = append(unread, strconv.Quote(col))
		}
	}
	switch len(unread) {
	case 0:
	case 1:
		fmt.Fprintf(p.o.Out, "Column %s is read by no mapping of source %s: its values are stored, not sent to Salesforce.\n", unread[0], p.o.Source)
	default:
		fmt.Fprintf(p.o.Out, "Columns %s are read by no mapping of source %s: their values are stored, not sent to Salesforce.\n", strings.Join(unread, ", "), p.o.Source)
	}
}

// apiCallsSince sums the API calls of the runs recorded after the run
// baseRun. It reads the store's newest runs in growing pages until it
// reaches baseRun, not the whole history of a long-lived store.
func (p *push) apiCallsSince(ctx context.Context, baseRun int64) (int, error) {
	for limit := 64; ; limit *= 8 {
		runs, err := p.st.Runs(ctx, limit)
		if err != nil {
			return 0, err
		}
		calls, reached := 0, len(runs) < limit || limit >= 1<<24
		for _, r := range runs {
			if r.ID <= baseRun {
				reached = true
				break
			}
			calls += r.APICalls
		}
		if reached {
			return calls, nil
		}
	}
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
