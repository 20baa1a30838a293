package filepush

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/ingest"
)

// The file is read in three stages, so a push keeps more than one core
// busy while its upload streams:
//
//  1. one goroutine reads rows and cuts them into chunks (readChunks);
//  2. judging workers compare each chunk with the store and, on the
//     direct path, build each changed row's payload (judgeChunk) — the
//     costly part, and independent from chunk to chunk;
//  3. the push takes the chunks in file order and does everything that
//     depends on what came before: the open job, the outbox, the
//     checkpoint (push.read).
//
// A worker reads the store ahead of stage 3, so what it read can be stale
// by the time its chunk's turn comes: stage 3 writes the store (records a
// job, queues rows) in between. Every such write bumps p.gen once it is
// committed; a chunk judged under an older generation is judged again,
// in stage 3, before it is used. A worker that loaded the generation
// before a write's bump reads it as changed; one that loaded it after
// started its query after the write committed.

// chunk is a run of good rows of the file, with what a worker made of it.
type chunk struct {
	rows     []forcesync.Change
	consumed int64 // data rows consumed, good or bad, up to the chunk's end
	last     bool  // the file ends with this chunk
	err      error // reading the file failed after the chunk's rows

	// Set by judgeChunk; valid once done is closed.
	gen      uint64
	keep     []bool // per row: pushing it would change something
	stored   map[string]forcesync.Settled
	verdicts []verdict // per row kept and lane, on the direct path: row i's at [i*lanes, (i+1)*lanes)
	jerr     error
	done     chan struct{}
}

// judgeWorkers is how many chunks are judged at once: the cores, up to 4
// (the store's read pool serves them).
func judgeWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// startStages starts stages 1 and 2 on rows (from the row after skip) and
// returns the chunks in file order, for stage 3, and the stop that ends
// the stages and waits for them (deferred by the caller).
func (p *push) startStages(ctx context.Context, rows ingest.Reader, skip int64) (<-chan *chunk, func()) {
	sctx, cancel := context.WithCancel(ctx)
	workers := judgeWorkers()
	work := make(chan *chunk)
	ordered := make(chan *chunk, workers)
	var stages sync.WaitGroup
	stages.Go(func() { p.readChunks(sctx, rows, skip, work, ordered) })
	for range workers {
		stages.Go(func() { p.judgeChunks(sctx, work) })
	}
	return ordered, func() {
		cancel()
		for range ordered {
		}
		stages.Wait()
	}
}

// readChunks is stage 1: it reads the file from the row after skip and
// hands each chunk both to the workers (work) and, in file order, to
// stage 3 (ordered). Bad rows are reported here. It closes both channels
// when the file ends, reading fails or ctx ends.
func (p *push) readChunks(ctx context.Context, rows ingest.Reader, skip int64, work, ordered chan<- *chunk) {
	defer close(work)
	defer close(ordered)
	o := p.o
	var consumed int64
	c := &chunk{rows: make([]forcesync.Change, 0, o.Chunk), done: make(chan struct{})}
	hand := func() bool {
		c.consumed = consumed
		select {
		case work <- c:
		case <-ctx.Done():
			return false
		}
		select {
		case ordered <- c:
		case <-ctx.Done():
			return false
		}
		c = &chunk{rows: make([]forcesync.Change, 0, o.Chunk), done: make(chan struct{})}
		return true
	}
	for ctx.Err() == nil {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			c.last = true
			hand()
			return
		}
		if err != nil {
			c.err = fmt.Errorf("%s: %w", o.File, err)
			hand()
			return
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
		c.rows = append(c.rows, row.Change)
		if len(c.rows) >= o.Chunk && !hand() {
			return
		}
	}
}

// judgeChunks is stage 2: a worker judging chunks until work is closed.
func (p *push) judgeChunks(ctx context.Context, work <-chan *chunk) {
	for c := range work {
		if c.err == nil && ctx.Err() == nil {
			p.judgeChunk(ctx, c)
		}
		close(c.done)
	}
}

// judgeChunk compares c's rows with the store and judges the changed ones
// for the direct path, noting the store generation it read under.
func (p *push) judgeChunk(ctx context.Context, c *chunk) {
	c.gen = p.gen.Load()
	c.keep, c.stored, c.jerr = p.compare(ctx, c.rows)
	if c.jerr != nil || p.direct == nil {
		return
	}
	lanes := p.direct.lanes
	if c.verdicts == nil {
		c.verdicts = make([]verdict, len(c.rows)*len(lanes))
	}
	for i := range c.rows {
		vs := c.verdicts[i*len(lanes) : (i+1)*len(lanes)]
		for k, l := range lanes {
			if c.keep[i] {
				vs[k] = p.judge(l, &c.rows[i], c.stored)
			} else {
				vs[k] = verdict{}
			}
		}
	}
}

// compare reports per change whether pushing it would change something:
// the stored record differs, or some mapping has not pushed it as it is.
// It also returns the stored state it read (nil without a
// forcesync.SettledReader). Each change's fields are encoded once here
// and handed on. A key twice in one batch is kept the second time
// (Accept keeps the newest).
func (p *push) compare(ctx context.Context, batch []forcesync.Change) ([]bool, map[string]forcesync.Settled, error) {
	keep := make([]bool, len(batch))
	for i := range batch {
		c := &batch[i]
		keep[i] = true
		if c.FieldsJSON == nil && c.Fields != nil {
			b, err := json.Marshal(c.Fields)
			if err != nil {
				return nil, nil, forcesync.Errorf(forcesync.EInvalid, "row %s: fields: %v", c.Key, err)
			}
			c.FieldsJSON = b
		}
	}
	if p.settled == nil {
		return keep, nil, nil
	}
	keys := make([]string, 0, len(batch))
	for i := range batch {
		if batch[i].Op == forcesync.OpUpsert {
			keys = append(keys, batch[i].Key)
		}
	}
	if len(keys) == 0 {
		return keep, nil, nil
	}
	stored, err := p.settled.Settled(ctx, p.o.Source, p.sum.Mappings, keys)
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(batch))
	for i := range batch {
		c := &batch[i]
		keep[i] = seen[c.Key] || !p.unchanged(c, stored)
		seen[c.Key] = true
	}
	return keep, stored, nil
}
