package filepush

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
)

// The direct path. When every mapping of the source is an External ID
// mapping that its engine lets a file push run itself (engine.FileJobOK)
// and the store can record pushed rows (forcesync.PushRecorder), a changed
// row the push can judge on its own — an upsert, new or synced under each
// mapping, nothing queued, its payloads built without error — is not
// written before it is sent: it is streamed from the file straight into
// the upload of a Bulk job per mapping (a lane); while Salesforce
// processes the jobs, their source records are written (stage), and once
// the answers are in, each mapping's bindings and statuses, and the
// checkpoint moves past the jobs' rows.
// The file is the intake: a push killed during a job resumes from the
// checkpoint and sends those rows again (an upsert by External ID, so
// never twice in Salesforce), after aborting the jobs the dead push left
// (engine.RecoverGoneJobs). Every other row — among them a row that only
// some of the mappings would send — goes through the store's outbox and
// the engines, as before. Memory holds one job's rows per lane in compact
// form (key, fields JSON, fingerprint), not the file.

// directRow is what a job keeps of a row it sent (or skipped), to record
// its answer.
type directRow struct {
	key, ext, fields string
	version          int64
	// fp is the fingerprint stored on success (the update form), heldFP
	// the one stored when Salesforce refuses it.
	fp, heldFP string
	bound      bool
	idx        int    // the row's place in the job set (directPath.set)
	sfID       string // same rows: the bound record's Id
}

// recordPiece is the most rows of a job recorded in one transaction.
const recordPiece = 10_000

// directJob is one lane's Bulk job, fed from the file while it is read.
type directJob struct {
	rows blocks[directRow] // sent
	// skips are rows out of the mapping's scope (its filter), never bound
	// under it: recorded skipped, without a call, as the engine would.
	skips blocks[directRow]
	// sames are bound rows whose payload is the one the binding holds
	// (another lane sends the row): recorded synced, without a call.
	sames blocks[directRow]
	exts  map[string]bool // External ID values in the job (folded when case-insensitive)
	feed  chan []map[string]any
	done  chan struct{}
	// held keeps records until the job has min rows and starts.
	held    [][]map[string]any
	started bool
	res     map[string]engine.Result
	run     *forcesync.Run
	err     error
}

// lane is one mapping's share of the direct path: its engine and the job
// open for it.
type lane struct {
	eng    Engine
	pipe   *engine.Pipe
	fields []string
	fold   bool
	// guard is the mapping whose binding of a record keeps this lane from
	// creating it (engine.FileJobGuard); "" for none.
	guard string
	job   *directJob
}

// setRow is a row of the open job set, as staging writes it.
type setRow struct {
	key, fields string
	version     int64
}

// directPath is set up by Push when the direct path applies. The lanes'
// jobs open and close together, as a set: each row of the set is sent or
// skipped by every lane.
type directPath struct {
	lanes []*lane // one per mapping of the source, in p.pipes' order
	rec   forcesync.PushRecorder
	// min is the fewest rows a job is started for (the engines' Bulk
	// threshold): until then its records wait in memory, and a lane that
	// ends with fewer sends them through the outbox, where Collections
	// takes them.
	min int

	set     *blocks[setRow] // the open set's rows, in the order they came; nil when none is open
	setKeys map[string]bool
	// later holds the rows that came after a row of the open set with the
	// same key (a key repeated in the file): they are accepted once the
	// set is recorded, so the file's last row of a key is the one that
	// stays, as when the rows go through the outbox in order.
	later []forcesync.Change
}

// open reports whether a job set is open.
func (d *directPath) open() bool { return d.set != nil }

// holds reports whether key is a row of the open set.
func (d *directPath) holds(key string) bool { return d.setKeys[key] }

// rows is how many rows the open set holds.
func (d *directPath) rows() int {
	if !d.open() {
		return 0
	}
	return d.set.len()
}

// openSet opens a job per lane; each starts sending once it holds the
// direct path's minimum of rows.
func (d *directPath) openSet() {
	for _, l := range d.lanes {
		l.job = &directJob{exts: map[string]bool{}, feed: make(chan []map[string]any, 2), done: make(chan struct{})}
	}
	d.set, d.setKeys = &blocks[setRow]{}, map[string]bool{}
}

// closeSet detaches the open set: its rows and each lane's job.
func (d *directPath) closeSet() (*blocks[setRow], []*directJob) {
	jobs := make([]*directJob, len(d.lanes))
	for k, l := range d.lanes {
		jobs[k], l.job = l.job, nil
	}
	set := d.set
	d.set, d.setKeys, d.later = nil, nil, nil
	return set, jobs
}

// start runs FileUpsert of l's open job in its own goroutine, reading the
// records fed to the job until the feed is closed.
func (p *push) start(ctx context.Context, l *lane) {
	j := l.job
	j.started = true
	seq := iter.Seq2[map[string]any, error](func(yield func(map[string]any, error) bool) {
		for recs := range j.feed {
			for i, r := range recs {
				if !yield(r, nil) {
					return
				}
				recs[i] = nil
			}
		}
	})
	go func() {
		defer close(j.done)
		j.res, j.run, j.err = l.eng.FileUpsert(ctx, l.pipe, l.fields, seq)
		// Let a reader blocked on the feed go on when the job ended early.
		for range j.feed {
		}
	}()
}

// send hands a chunk's records to l's job's upload, starting the job once
// it holds min rows.
func (p *push) send(ctx context.Context, l *lane, recs []map[string]any) error {
	j := l.job
	if !j.started {
		j.held = append(j.held, recs)
		if j.rows.len() < p.direct.min {
			return nil
		}
		p.start(ctx, l)
		held := j.held
		j.held = nil
		for _, r := range held {
			if err := j.push(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}
	return j.push(ctx, recs)
}

func (j *directJob) push(ctx context.Context, recs []map[string]any) error {
	select {
	case j.feed <- recs:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finishJob closes the open job set: it ends the started jobs' uploads,
// stages the set's source records while Salesforce processes them, waits
// for the answers and records them, lane by lane. Rows a lane did not
// settle (its job stayed below the Bulk threshold, a retryable error, not
// processed, or the whole job failed) go to the store's outbox for that
// lane's mapping, for the engine.
func (p *push) finishJob(ctx context.Context, last bool) error {
	d := p.direct
	if !d.open() {
		return nil
	}
	later := d.later
	set, jobs := d.closeSet()
	started := false
	for _, j := range jobs {
		if j.started {
			close(j.feed)
			started = true
		}
	}
	// While Salesforce takes the jobs, the set's source records are written
	// (the rest once it answered); staged counts the rows written. With no
	// job started there is nothing to wait for: the rows are queued or
	// recorded at once.
	staged := 0
	if started {
		staged = p.stage(ctx, set, jobs)
	}
	for _, j := range jobs {
		if j.started {
			<-j.done
		}
	}
	for k, l := range d.lanes {
		if err := p.record(ctx, l, jobs[k], staged); err != nil {
			return err
		}
	}
	if started {
		p.streamed.Add(int64(set.len()))
	} else {
		p.accepted.Add(int64(set.len())) // all queued or recorded without a job
	}
	if len(later) > 0 {
		if err := p.accept(ctx, p.sum.Mappings, later, true); err != nil {
			return fmt.Errorf("accept %d rows repeating a key of the Bulk job: %w", len(later), err)
		}
	}
	// The jobs' rows, answers and records are garbage now. Collect them
	// before the next set grows: the collector would otherwise wait for the
	// heap to double the size it had at the set's peak, and the peak memory
	// would grow with the number of sets, not stay one set's. After the
	// file's last set there is no next one to make room for.
	if !last {
		clear(jobs)
		set = nil
		runtime.GC()
	}
	return nil
}

// record writes what l's job j came to: its sent rows by their answers
// (or queued, when the job never started or failed), its skipped rows as
// skipped and its same rows as synced, unchanged.
func (p *push) record(ctx context.Context, l *lane, j *directJob, staged int) error {
	m := l.pipe.Mapping.Name
	var run *forcesync.Run
	switch {
	case !j.started:
		// Too few rows for a Bulk job: the engine sends them by Collections.
		if err := p.queueRows(ctx, j.rows.slice(), []string{m}); err != nil {
			return err
		}
	case j.err != nil:
		if ctx.Err() != nil {
			return ctx.Err() // interrupted: the checkpoint stays before these rows
		}
		if !errors.Is(j.err, engine.ErrNoFileJob) {
			fmt.Fprintf(p.o.Out, "Bulk job of %d rows for %s failed (%v); queueing them for the engine instead.\n", j.rows.len(), m, j.err)
		}
		if err := p.queueRows(ctx, j.rows.slice(), []string{m}); err != nil {
			return err
		}
	default:
		run = j.run
		run.Records = j.rows.len() + j.skips.len() + j.sames.len()
		run.Skipped, run.Unchanged = j.skips.len(), j.sames.len()
	}
	// Recorded in pieces, each its own transaction: memory holds a piece's
	// records, not the job's, and a crash between two pieces only sends the
	// unrecorded rows again (the recorded ones compare unchanged). The run
	// goes with the last piece, when its counts are known.
	var retry []directRow
	sent := j.rows.len()
	if run == nil {
		sent = 0 // queued above
	}
	// After the sent rows come those recorded without a call.
	quiet := func(i int) *directRow {
		if i < j.skips.len() {
			return j.skips.at(i)
		}
		return j.sames.at(i - j.skips.len())
	}
	all := sent + j.skips.len() + j.sames.len()
	out := make([]forcesync.PushedRecord, 0, min(all, recordPiece))
	fates := make([]engine.Settled, 0, cap(out))
	for lo := 0; lo < all; lo += recordPiece {
		out, fates = out[:0], fates[:0]
		for i := lo; i < min(lo+recordPiece, all); i++ {
			if i >= sent {
				r := quiet(i - sent)
				if r.sfID == "" {
					out = append(out, forcesync.PushedRecord{Key: r.key, Version: r.version, Fields: r.fields, State: forcesync.StateSkipped,
						Staged: r.idx < staged})
					fates = append(fates, engine.Settled{Mapping: m, Key: r.key, Fate: engine.FateSkipped})
					continue
				}
				out = append(out, forcesync.PushedRecord{Key: r.key, Version: r.version, Fields: r.fields, State: forcesync.StateSynced,
					SalesforceID: r.sfID, Fingerprint: r.fp, Unchanged: true, Staged: r.idx < staged})
				fates = append(fates, engine.Settled{Mapping: m, Key: r.key, Fate: engine.FateUnchanged})
				continue
			}
			r := j.rows.at(i)
			res, ok := j.res[r.ext]
			switch {
			case !ok || (res.Err != nil && (res.Retryable || engine.FileJobRetry(res.Err.Code))):
				retry = append(retry, *r)
				continue
			case res.Err != nil:
				out = append(out, forcesync.PushedRecord{Key: r.key, Version: r.version, Fields: r.fields, State: forcesync.StateHeld,
					Fingerprint: r.heldFP, Error: res.Err, Staged: r.idx < staged})
				fates = append(fates, engine.Settled{Mapping: m, Key: r.key, Fate: engine.FateHeld})
				run.Failed++
			default:
				out = append(out, forcesync.PushedRecord{Key: r.key, Version: r.version, Fields: r.fields, State: forcesync.StateSynced,
					SalesforceID: res.ID, Fingerprint: r.fp, Staged: r.idx < staged})
				f := engine.FateUpdated
				if res.Created {
					f, run.Created = engine.FateCreated, run.Created+1
				} else {
					run.Updated++
				}
				fates = append(fates, engine.Settled{Mapping: m, Key: r.key, Fate: f})
			}
		}
		var withRun *forcesync.Run
		if lo+recordPiece >= all {
			withRun = run
		}
		// Salesforce has the data: record it even if ctx ended meanwhile.
		err := p.direct.rec.RecordPushed(context.WithoutCancel(ctx), p.o.Source, m, out, withRun)
		p.gen.Add(1)
		if err != nil {
			return fmt.Errorf("record a Bulk job's rows: %w", err)
		}
		p.tally.add(fates)
	}
	if len(retry) > 0 {
		if err := p.queueRows(ctx, retry, []string{m}); err != nil {
			return err
		}
	}
	j.rows, j.skips, j.sames, j.res = blocks[directRow]{}, blocks[directRow]{}, blocks[directRow]{}, nil
	return nil
}

// stage writes the source records of the set's rows (forcesync.
// PushRecorder's StageRecords) in pieces, while the jobs are closed and
// processed, and returns how many rows from the first are written. It
// stops at the first failure (those rows' records are written with their
// answers instead) or once a job ended in error: its rows go through the
// outbox then. The first lane's mapping names the queued work that keeps
// a record from being staged (the doors queue a record for every mapping
// of its source).
func (p *push) stage(ctx context.Context, set *blocks[setRow], jobs []*directJob) int {
	d := p.direct
	piece := make([]forcesync.PushedRecord, 0, min(set.len(), recordPiece))
	n := 0
	for lo := 0; lo < set.len(); lo += recordPiece {
		for _, j := range jobs {
			if !j.started {
				continue
			}
			select {
			case <-j.done:
				if j.err != nil {
					return n
				}
			default:
			}
		}
		piece = piece[:0]
		for i := lo; i < min(lo+recordPiece, set.len()); i++ {
			r := set.at(i)
			piece = append(piece, forcesync.PushedRecord{Key: r.key, Version: r.version, Fields: r.fields})
		}
		err := d.rec.StageRecords(ctx, p.o.Source, d.lanes[0].pipe.Mapping.Name, piece)
		p.gen.Add(1)
		if err != nil {
			return n
		}
		n += len(piece)
	}
	return n
}

// dropJob ends the open jobs' feeds when the read stops early (interrupted,
// an error): each goroutine ends once FileUpsert returned, which aborts the
// job it left unfinished. Their rows are not recorded: the checkpoint is
// before them.
func (p *push) dropJob() {
	if p.direct == nil || !p.direct.open() {
		return
	}
	_, jobs := p.direct.closeSet()
	for _, j := range jobs {
		if j.started {
			close(j.feed)
			<-j.done
		}
	}
}

// queueRows accepts rows of a job into the store's outbox, for the engines
// of mappings. They were counted as the direct path's rows already.
func (p *push) queueRows(ctx context.Context, rows []directRow, mappings []string) error {
	const piece = 5000
	for lo := 0; lo < len(rows); lo += piece {
		part := rows[lo:min(lo+piece, len(rows))]
		cs := make([]forcesync.Change, len(part))
		for i, r := range part {
			cs[i] = forcesync.Change{Source: p.o.Source, Key: r.key, Op: forcesync.OpUpsert, FieldsJSON: []byte(r.fields),
				Priority: forcesync.PriorityBackfill}
		}
		if err := p.accept(ctx, mappings, cs, false); err != nil {
			return fmt.Errorf("queue %d rows: %w", len(cs), err)
		}
	}
	return nil
}

// verdict is the direct path's judgement of one changed row under one
// lane, made ahead of time by a judging worker (pipeline.go): ok with the
// record to upload and what to keep of the row; skip, out of the
// mapping's scope and never bound under it (recorded skipped, no call);
// same, bound with the payload its binding holds (recorded synced, no
// call); or none of these (the row goes through the outbox).
type verdict struct {
	ok, skip, same bool
	rec            map[string]any
	row            directRow
	fold           string // the External ID value as the job compares it
}

// judge decides, from the chunk's stored state alone, whether l's job can
// send or skip c, and builds its record. It reads no job state, so judging
// workers run it in parallel; admit then checks c against the open set.
func (p *push) judge(l *lane, c *forcesync.Change, stored map[string]forcesync.Settled) verdict {
	if c.Op != forcesync.OpUpsert || c.Version != 0 {
		return verdict{}
	}
	m := l.pipe.Mapping.Name
	cm := l.pipe.Compiled
	s, known := stored[c.Key]
	var sm forcesync.SettledMapping
	has := false
	if known {
		if s.Deleted {
			return verdict{}
		}
		sm, has = s.Mappings[m]
	}
	// Unbound and skipped: as new. (Refused at creation is the engine's: it
	// keeps the record held without a call while its payload is the one
	// Salesforce refused.)
	fresh := !has || (sm.SalesforceID == "" && sm.State == forcesync.StateSkipped)
	if has && (sm.Queued || (!fresh && (sm.State != forcesync.StateSynced || sm.SalesforceID == "" ||
		sm.Fingerprint == forcesync.FingerprintConverted || sm.Fingerprint == forcesync.FingerprintDisabled))) {
		return verdict{}
	}
	bound := !fresh
	// The key is a slice of the CSV reader's string for the whole line: a
	// copy of its own lets the line go (a job holds 100,000 rows).
	key := strings.Clone(c.Key)
	row := directRow{key: key, fields: string(c.FieldsJSON), version: s.Version + 1, bound: bound}
	pass, err := cm.Filter(c.Fields)
	if err != nil {
		return verdict{}
	}
	if !pass {
		if bound {
			return verdict{} // left its scope: the engine applies the mapping's rules
		}
		return verdict{skip: true, row: row}
	}
	if !bound && l.guard != "" && s.Mappings[l.guard].SalesforceID != "" {
		return verdict{} // a promotion or a demotion: the engine's
	}
	if cm.Disables() {
		if off, err := cm.DisabledBy(c.Fields); err != nil || off {
			return verdict{}
		}
	}
	if bound && !cm.CanUpdate() {
		return verdict{}
	}
	pl, err := cm.PayloadFor(c.Key, c.Fields, !bound)
	if err != nil || len(pl.Warnings) > 0 {
		return verdict{}
	}
	if bound && pl.Fingerprint == sm.Fingerprint {
		row.sfID, row.fp = sm.SalesforceID, sm.Fingerprint
		return verdict{same: true, row: row}
	}
	ext := pl.ExternalID
	if ext == key {
		ext = key // one string for both: a job holds 100,000 of them
	}
	fold := ext
	if l.fold {
		fold = strings.ToLower(ext)
	}
	row.ext, row.fp, row.heldFP = ext, pl.Fingerprint, pl.Fingerprint
	if pl.UpdateFingerprint != "" {
		row.fp = pl.UpdateFingerprint
	}
	return verdict{ok: true, rec: pl.Fields, fold: fold, row: row}
}

// admit adds a row to the open set when every lane judged it sendable,
// skipped or the same, no sending lane's job holds its External ID value
// already, and its key is neither in the set nor among slowKeys (keys of
// this chunk bound for the outbox); otherwise the row goes through the
// outbox. vs holds the row's verdict per lane.
func (p *push) admit(vs []verdict, slowKeys map[string]bool) bool {
	d := p.direct
	key := vs[0].row.key
	if slowKeys[key] || d.setKeys[key] {
		return false
	}
	for k, l := range d.lanes {
		v := &vs[k]
		if !v.ok && !v.skip && !v.same || v.ok && l.job.exts[v.fold] {
			return false
		}
	}
	idx := d.set.len()
	d.set.add(setRow{key: key, fields: vs[0].row.fields, version: vs[0].row.version})
	d.setKeys[key] = true
	for k, l := range d.lanes {
		v := &vs[k]
		v.row.idx = idx
		switch {
		case v.skip:
			l.job.skips.add(v.row)
			continue
		case v.same:
			l.job.sames.add(v.row)
			continue
		}
		l.job.exts[v.fold] = true
		l.job.rows.add(v.row)
	}
	return true
}

// Owner names a push process in the Bulk job ledger: host and pid, so the
// next push on the same host can tell that a push that left jobs is gone.
func Owner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("push/%s/%d/%08x", host, os.Getpid(), rand.Uint32())
}

// OwnerGone reports whether a ledger owner is a push on this host whose
// process no longer runs (or is a zombie). Owners of other kinds or other
// hosts are not judged here: their jobs are recovered after a lease.
func OwnerGone(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 4 || parts[0] != "push" {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[2])
	if parts[1] != host || err != nil || pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + parts[2] + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] == 'Z'
	}
	return false
}
