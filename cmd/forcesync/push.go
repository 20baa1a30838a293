package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"
)

func init() { register(newPushCmd) }

type pushFlags struct {
	config  string
	source  string
	file    string
	format  string
	restart bool
	chunk   int
	// progressEvery is how often plain (non-terminal) progress lines are
	// printed; zero means five seconds.
	progressEvery time.Duration
}

func newPushCmd(env *Env) *cobra.Command {
	var f pushFlags
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Push a CSV or NDJSON file of records to Salesforce through a source's mappings",
		Long: `Reads a file of any size as records of one source, accepts them into the store
in chunks, and runs the engine until they are pushed. CSV files take field names from
their header row; NDJSON lines are either {"key","op","version","fields"} objects (as
the ingest API takes) or plain records holding the source's key field.

The run is resumable: rows accepted so far are noted in FILE.forcesync-progress, and
running the same command again skips them (--restart ignores the note). Failures are
written to FILE.failures.csv.`,
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
			return runPush(cmd.Context(), env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "forcesync.yaml", "config file")
	fl.StringVar(&f.source, "source", "", "source the records belong to (see the config's sources)")
	fl.StringVar(&f.file, "file", "", "CSV, NDJSON or JSONL file of records")
	fl.StringVar(&f.format, "format", "", "csv or ndjson (default: from the file's extension)")
	fl.BoolVar(&f.restart, "restart", false, "ignore the progress file and start from the first row")
	fl.IntVar(&f.chunk, "chunk", 1000, "records accepted into the store per transaction")
	fl.DurationVar(&f.progressEvery, "progress-every", 5*time.Second, "how often progress lines are printed when the output is not a terminal")
	return cmd
}

// pushChunkHook, when set by a test, is called after each chunk is accepted
// and checkpointed, with the rows consumed so far.
var pushChunkHook func(rows int64)

// pushCheckpoint is the progress file: how many data rows of which file
// have been durably accepted. The file's size and modification time tell a
// changed file from the same one.
type pushCheckpoint struct {
	File     string    `json:"file"`
	Source   string    `json:"source"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Rows     int64     `json:"rows_accepted"`
}

func checkpointPath(file string) string { return file + ".forcesync-progress" }

func loadCheckpoint(path string, fi os.FileInfo, source string) (*pushCheckpoint, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ""
	}
	var cp pushCheckpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Sprintf("ignoring unreadable progress file %s", path)
	}
	if cp.Size != fi.Size() || !cp.Modified.Equal(fi.ModTime().UTC()) || cp.Source != source {
		return nil, fmt.Sprintf("ignoring progress file %s: the file or the source changed since", path)
	}
	return &cp, ""
}

// save writes the checkpoint atomically: a crash leaves the old or the new one.
func (cp *pushCheckpoint) save(path string) error {
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// pushRow is one parsed data row: a change, or why the row is bad.
type pushRow struct {
	line   int64 // 1-based line in the file
	change forcesync.Change
	bad    string
}

// rowReader yields data rows one at a time.
type rowReader interface {
	next() (pushRow, error) // io.EOF at the end
}

// csvRows reads CSV: the header row names the fields; empty cells are
// absent fields, so defaults and fallback chains apply to them.
type csvRows struct {
	r      *csv.Reader
	header []string
	keyCol int
	source string
}

func newCSVRows(r io.Reader, source, key string) (*csvRows, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a wrong column count is a bad row, not the end
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	c := &csvRows{r: cr, header: append([]string(nil), header...), keyCol: -1, source: source}
	for i, h := range c.header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		c.header[i] = h
		if h == key {
			c.keyCol = i
		}
	}
	if c.keyCol < 0 {
		return nil, fmt.Errorf("the header row has no %q column (the source's key)", key)
	}
	return c, nil
}

func (c *csvRows) next() (pushRow, error) {
	rec, err := c.r.Read()
	line, _ := c.r.FieldPos(0)
	row := pushRow{line: int64(line)}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row.line = int64(pe.Line)
			row.bad = pe.Err.Error()
			return row, nil
		}
		return row, err
	}
	if len(rec) != len(c.header) {
		row.bad = fmt.Sprintf("%d columns, the header has %d", len(rec), len(c.header))
		return row, nil
	}
	key := strings.TrimSpace(rec[c.keyCol])
	if key == "" {
		row.bad = fmt.Sprintf("empty key column %q", c.header[c.keyCol])
		return row, nil
	}
	fields := make(map[string]any, len(rec))
	for i, v := range rec {
		if v != "" {
			fields[c.header[i]] = v
		}
	}
	row.change = forcesync.Change{Source: c.source, Key: key, Op: forcesync.OpUpsert, Fields: fields}
	return row, nil
}

// ndjsonRows reads one JSON object a line.
type ndjsonRows struct {
	r      *bufio.Reader
	line   int64
	source string
	key    string
}

// maxNDJSONLine bounds one line so a file without newlines cannot eat memory.
const maxNDJSONLine = 16 << 20

func (n *ndjsonRows) next() (pushRow, error) {
	for {
		b, err := n.readLine()
		if err != nil && len(b) == 0 {
			return pushRow{}, err
		}
		n.line++
		row := pushRow{line: n.line}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue // blank lines are not rows
		}
		if len(b) > maxNDJSONLine {
			row.bad = fmt.Sprintf("line longer than %d bytes", maxNDJSONLine)
			return row, nil
		}
		row.change, row.bad = n.parse(b)
		return row, nil
	}
}

// readLine returns one line; lines beyond the limit are consumed and
// returned truncated to limit+1 bytes so the caller reports them.
func (n *ndjsonRows) readLine() ([]byte, error) {
	var buf []byte
	for {
		part, isPrefix, err := n.r.ReadLine()
		if len(buf) <= maxNDJSONLine {
			buf = append(buf, part...)
		}
		if err != nil || !isPrefix {
			return buf, err
		}
	}
}

func (n *ndjsonRows) parse(b []byte) (forcesync.Change, string) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return forcesync.Change{}, "not a JSON object"
	}
	ch := forcesync.Change{Source: n.source, Op: forcesync.OpUpsert}
	if isChangeObject(obj) {
		// The ingest API's shape: {key, op, version, fields}.
		var env struct {
			Key     any            `json:"key"`
			Op      string         `json:"op"`
			Version json.Number    `json:"version"`
			Fields  map[string]any `json:"fields"`
		}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&env); err != nil {
			return ch, "bad change object: " + err.Error()
		}
		ch.Key = keyString(env.Key)
		ch.Fields = env.Fields
		switch forcesync.Op(env.Op) {
		case "", forcesync.OpUpsert:
		case forcesync.OpDelete, forcesync.OpDisable:
			ch.Op = forcesync.Op(env.Op)
		default:
			return ch, fmt.Sprintf("op %q: want upsert, delete or disable", env.Op)
		}
		if env.Version != "" {
			v, err := strconv.ParseInt(string(env.Version), 10, 64)
			if err != nil || v < 0 {
				return ch, fmt.Sprintf("version %s: want a non-negative integer", env.Version)
			}
			if v > forcesync.MaxVersion {
				return ch, fmt.Sprintf("version %s: over the ceiling %d (a version that high would freeze the key)", env.Version, forcesync.MaxVersion)
			}
			ch.Version = v
		}
	} else {
		fields := map[string]any{}
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&fields); err != nil {
			return ch, "not a JSON object"
		}
		ch.Key = keyString(fields[n.key])
		ch.Fields = fields
	}
	if ch.Key == "" {
		return ch, fmt.Sprintf("empty or missing key %q", n.key)
	}
	if ch.Fields == nil && ch.Op == forcesync.OpUpsert {
		ch.Fields = map[string]any{}
	}
	return ch, ""
}

// isChangeObject tells a line in the ingest API's shape ({key, op, version,
// fields}) from a flat record: it has fields, or it has an op and nothing
// but those four properties (so {"key":"k","op":"disable"} is a change, as
// REST ingest reads it, while a record with its own "op" column is data).
func isChangeObject(obj map[string]json.RawMessage) bool {
	if _, ok := obj["fields"]; ok {
		return true
	}
	if _, ok := obj["op"]; !ok {
		return false
	}
	for k := range obj {
		switch k {
		case "key", "op", "version", "fields":
		default:
			return false
		}
	}
	return true
}

// keyString renders a JSON key value (string or number) as the record key.
func keyString(v any) string {
	switch k := v.(type) {
	case string:
		return strings.TrimSpace(k)
	case json.Number:
		return k.String()
	default:
		return ""
	}
}

// countLines counts the newlines of a file, for the progress bar's total.
func countLines(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 256<<10)
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err != nil {
			break
		}
	}
	if last != '\n' {
		n++
	}
	return n
}

// pushProgress shows how far the push is: a bar on a terminal, plain lines
// otherwise.
type pushProgress struct {
	bar   *progressbar.ProgressBar
	out   io.Writer
	every time.Duration
	total int64
	start time.Time
	last  time.Time
}

func newPushProgress(w io.Writer, total int64, every time.Duration) *pushProgress {
	p := &pushProgress{out: w, every: every, total: total, start: time.Now()}
	p.last = p.start
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		max := total
		if max <= 0 {
			max = -1 // a spinner
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("pushing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rec"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

func (p *pushProgress) set(done, accepted int64) {
	if p.bar != nil {
		if p.total > 0 && done > p.total {
			done = p.total
		}
		_ = p.bar.Set64(done)
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	rate := float64(done) / now.Sub(p.start).Seconds()
	line := fmt.Sprintf("pushed %d records, accepted %d (%.0f records/s)", done, accepted, rate)
	if p.total > 0 && rate > 0 && done < p.total {
		eta := time.Duration(float64(p.total-done) / rate * float64(time.Second))
		line += fmt.Sprintf(", about %s left", eta.Round(time.Second))
	}
	fmt.Fprintln(p.out, line)
}

func (p *pushProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// runPush accepts the file's rows and drains the engines.
func runPush(ctx context.Context, env *Env, f pushFlags) error {
	out := env.Stdout
	if f.progressEvery <= 0 {
		f.progressEvery = 5 * time.Second
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openApp(ctx, env, f.config, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	src := a.cfg.Source(f.source)
	if src == nil {
		return usageError{fmt.Errorf("source %q is not in %s", f.source, f.config)}
	}
	keyField := src.Key
	if keyField == "" {
		keyField = "id"
	}
	mappings := engines(a.engines).MappingsFor(f.source)
	if len(mappings) == 0 {
		return fmt.Errorf("no mapping reads source %q: nothing to push", f.source)
	}

	file, err := os.Open(f.file)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return err
	}
	cpPath := checkpointPath(f.file)
	var skip int64
	if f.restart {
		_ = os.Remove(cpPath)
	} else if cp, note := loadCheckpoint(cpPath, fi, f.source); cp != nil {
		skip = cp.Rows
		fmt.Fprintf(out, "Resuming: %d rows were accepted by an earlier run (%s); skipping them. --restart starts over.\n", skip, cpPath)
	} else if note != "" {
		fmt.Fprintln(out, note)
	}
	cp := &pushCheckpoint{File: f.file, Source: f.source, Size: fi.Size(), Modified: fi.ModTime().UTC(), Rows: skip}

	var rows rowReader
	br := bufio.NewReaderSize(file, 1<<20)
	totalRows := countLines(f.file)
	if f.format == "csv" {
		rows, err = newCSVRows(br, f.source, keyField)
		if err != nil {
			return fmt.Errorf("%s: %w", f.file, err)
		}
		totalRows-- // the header
	} else {
		rows = &ndjsonRows{r: br, source: f.source, key: keyField}
	}
	if totalRows >= skip {
		totalRows -= skip
	}

	lastRun, err := a.store.Runs(ctx, 1)
	if err != nil {
		return err
	}
	var baseRun int64
	if len(lastRun) > 0 {
		baseRun = lastRun[0].ID
	}

	tally := newPushTally()
	for _, e := range a.engines {
		e.OnSettled(tally.add)
	}
	fmt.Fprintf(out, "Pushing %s as source %s through %s\n", f.file, f.source, strings.Join(mappings, ", "))
	start := time.Now()
	prog := newPushProgress(out, totalRows, f.progressEvery)
	var (
		accepted, badRows atomic.Int64
		readDone          = make(chan struct{})
		newWork           = make(chan struct{}, 1)
		badShown          int
	)
	const maxBadShown = 20

	// Progress is measured from the store: records accepted so far minus
	// the work still queued for them, sampled while the engine drains.
	baseBacklog, err := pushBacklog(ctx, a.store, mappings)
	if err != nil {
		return err
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		every := f.progressEvery
		if prog.bar != nil {
			every = 200 * time.Millisecond
		}
		tick := time.NewTicker(min(every, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-tick.C:
			}
			backlog, err := pushBacklog(ctx, a.store, mappings)
			if err != nil {
				continue
			}
			acc := accepted.Load()
			queued := (backlog - baseBacklog) / int64(len(mappings))
			prog.set(max(0, min(acc-queued, acc)), acc)
		}
	}()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(readDone)
		var consumed int64 // data rows read, good or bad
		batch := make([]forcesync.Change, 0, f.chunk)
		flush := func() error {
			if len(batch) > 0 {
				if _, err := a.store.Accept(gctx, mappings, batch); err != nil {
					return fmt.Errorf("accept rows up to %d: %w", consumed, err)
				}
				accepted.Add(int64(len(batch)))
				batch = batch[:0]
				select {
				case newWork <- struct{}{}:
				default:
				}
			}
			// Durable in the store before the checkpoint says so.
			cp.Rows = consumed
			if err := cp.save(cpPath); err != nil {
				return err
			}
			if pushChunkHook != nil {
				pushChunkHook(consumed)
			}
			return nil
		}
		for {
			if err := gctx.Err(); err != nil {
				return err
			}
			row, err := rows.next()
			if errors.Is(err, io.EOF) {
				return flush()
			}
			if err != nil {
				return fmt.Errorf("%s: %w", f.file, err)
			}
			consumed++
			if consumed <= skip {
				continue
			}
			if row.bad != "" {
				badRows.Add(1)
				if badShown < maxBadShown {
					badShown++
					fmt.Fprintf(env.Stderr, "%s:%d: skipped row: %s\n", f.file, row.line, row.bad)
				}
				continue
			}
			row.change.Priority = forcesync.PriorityBackfill
			row.change.Received = time.Now()
			batch = append(batch, row.change)
			if len(batch) >= f.chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	})
	g.Go(func() error {
		finished := false
		for {
			var n int
			for _, e := range a.engines {
				k, err := e.Drain(gctx)
				n += k
				if err != nil {
					return err
				}
			}
			if n > 0 {
				continue
			}
			if finished {
				return nil
			}
			select {
			case <-gctx.Done():
				return gctx.Err()
			case <-newWork:
			case <-readDone:
				// One more pass picks up the last chunk.
				finished = true
			}
		}
	})
	runErr := g.Wait()
	close(stopProgress)
	<-progressDone
	if runErr == nil {
		prog.finish()
	}

	interrupted := runErr != nil && ctx.Err() != nil
	if runErr != nil && !interrupted {
		return runErr
	}
	sctx := context.WithoutCancel(ctx)
	runs, err := a.store.Runs(sctx, 1_000_000)
	if err != nil {
		return err
	}
	var apiCalls int
	for _, r := range runs {
		if r.ID <= baseRun {
			break
		}
		apiCalls += r.APICalls
	}
	fmt.Fprintf(out, "\nAccepted %d records", accepted.Load())
	if skip > 0 {
		fmt.Fprintf(out, " (%d rows skipped: accepted by an earlier run)", skip)
	}
	fmt.Fprintf(out, "; %d bad rows", badRows.Load())
	if n := badRows.Load(); n > int64(badShown) {
		fmt.Fprintf(out, " (first %d listed on stderr)", badShown)
	}
	fmt.Fprintf(out, ".\nThis run: %s; %d API calls in %s.\n", tally.summary(), apiCalls, time.Since(start).Round(time.Millisecond))

	var failures []forcesync.RecordStatus
	for _, m := range mappings {
		counts, err := a.store.Counts(sctx, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Mapping %s now: synced %d, skipped %d, held %d, retrying %d, pending %d, deleted %d.\n", m,
			counts[forcesync.StateSynced], counts[forcesync.StateSkipped], counts[forcesync.StateHeld],
			counts[forcesync.StateRetrying], counts[forcesync.StatePending], counts[forcesync.StateDeleted])
		fs, err := a.store.List(sctx, forcesync.StatusFilter{Mapping: m,
			States: []forcesync.State{forcesync.StateHeld, forcesync.StateRetrying}, Limit: 10_000_000})
		if err != nil {
			return err
		}
		failures = append(failures, fs...)
	}
	failPath := f.file + ".failures.csv"
	if len(failures) > 0 {
		if err := writeFailures(failPath, failures); err != nil {
			return err
		}
		fmt.Fprintf(out, "%d failures written to %s (retrying records are retried by forcesync serve).\n", len(failures), failPath)
	} else {
		_ = os.Remove(failPath)
	}
	if interrupted {
		return fmt.Errorf("interrupted after accepting %d rows of %s; run the same command again to resume", cp.Rows, f.file)
	}
	// The whole file is in: the next push of it starts from the top (a
	// re-accepted unchanged record costs no API call).
	_ = os.Remove(cpPath)
	return nil
}

// pushBacklog sums the queued work of the mappings.
func pushBacklog(ctx context.Context, st forcesync.Store, mappings []string) (int64, error) {
	var n int64
	for _, m := range mappings {
		k, err := st.Backlog(ctx, m)
		if err != nil {
			return 0, err
		}
		n += int64(k)
	}
	return n, nil
}

// writeFailures writes one CSV row per failed record.
func writeFailures(path string, sts []forcesync.RecordStatus) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"key", "mapping", "state", "error_code", "message", "fields"})
	for _, st := range sts {
		var code, msg, fields string
		if st.Error != nil {
			code, msg, fields = st.Error.Code, st.Error.Message, strings.Join(st.Error.Fields, ";")
		}
		_ = w.Write([]string{st.Key, st.Mapping, string(st.State), code, msg, fields})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
