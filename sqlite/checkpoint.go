package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// In WAL mode a commit appends pages to the write-ahead log; a checkpoint
// copies them into the database file and syncs both files. SQLite's
// automatic checkpoint runs inside the commit that takes the log past
// 1,000 pages, so the writer waits for the copy and two fsyncs: a quarter
// of the wall time of a 100,000-row file push on a virtual disk (strace
// -T: 0.56 s of fsync in a 2.1 s push), time the writer could spend on the
// next transaction.
//
// The store checkpoints from a connection of its own instead. A commit
// nudges the checkpointer, which runs a PASSIVE checkpoint (it copies what
// no reader still needs and never blocks the writer or a reader) and then
// rests for checkpointGap, so a busy writer causes a few checkpoints a
// second rather than one per commit. The writer keeps an automatic
// checkpoint far above the usual log size as a backstop, in case the
// checkpointer falls behind (readers holding old snapshots) or fails.
// Closing the store ends with SQLite's own checkpoint of what is left.
//
// Durability is SQLite's either way: with synchronous=NORMAL a commit is
// in the log, safe from a killed process, and synced to disk by the next
// checkpoint.
const (
	checkpointGap = 250 * time.Millisecond
	// writerCheckpointPages is the writer's own automatic checkpoint
	// (PRAGMA wal_autocheckpoint), the backstop: 16,384 pages of 4 KiB.
	writerCheckpointPages = 16384
)

type checkpointer struct {
	db     *sql.DB
	nudge  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// newCheckpointer starts the checkpointer on its own connection to dsn.
func newCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, nudge: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// committed tells the checkpointer a commit added to the log. It never
// waits.
func (c *checkpointer) committed() {
	select {
	case c.nudge <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	rest := time.NewTimer(checkpointGap)
	rest.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.nudge:
		}
		// A failed checkpoint (the database busy in a way PASSIVE does not
		// wait for, a full disk) leaves the pages in the log, where the
		// writer's backstop or the next nudge takes them.
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		rest.Reset(checkpointGap)
		select {
		case <-ctx.Done():
			return
		case <-rest.C:
		}
	}
}

// close stops the checkpointer and closes its connection; the store's
// last connection to close checkpoints what is left.
func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}
