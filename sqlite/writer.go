package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// writer is the store's one writing connection. Write transactions take
// turns on it (SQLite has one writer at a time), and it keeps every
// statement it has prepared: a batch's multi-row statements are parsed once
// per store rather than once per transaction, which was a quarter of the
// cost of completing a batch.
//
// Transactions are plain BEGIN IMMEDIATE / COMMIT / ROLLBACK statements on
// the connection, under mu, so cached statements run inside them.
type writer struct {
	mu    sync.Mutex
	conn  *sql.Conn
	stmts map[string]*sql.Stmt // by SQL text; see eachPiece for why it stays small
	// committed, when set, is called after each commit (the checkpointer's
	// nudge).
	committed func()
}

func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &writer{conn: c, stmts: map[string]*sql.Stmt{}}, nil
}

func (w *writer) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for q, st := range w.stmts {
		st.Close()
		delete(w.stmts, q)
	}
	return w.conn.Close()
}

// stmt returns the prepared statement for q, preparing it on first use.
// Callers hold mu.
func (w *writer) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := w.stmts[q]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	w.stmts[q] = st
	return st, nil
}

// wtx is one write transaction. Its methods mirror *sql.Tx's.
type wtx struct {
	w    *writer
	done bool
}

// begin starts a write transaction, waiting for the one before to end.
func (s *Store) begin(ctx context.Context) (*wtx, error) {
	w := s.wr
	w.mu.Lock()
	if _, err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		// A context that ends during BEGIN can leave the transaction begun
		// on the connection while the call reports the context's error;
		// end it, or every later BEGIN fails ("cannot start a transaction
		// within a transaction").
		_, _ = w.exec(context.Background(), "ROLLBACK")
		w.mu.Unlock()
		return nil, err
	}
	return &wtx{w: w}, nil
}

func (w *writer) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// ExecContext runs a statement in the transaction.
func (t *wtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.w.exec(ctx, q, args...)
}

// QueryContext runs a query in the transaction. The rows must be closed
// before the next statement.
func (t *wtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (t *wtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.w.stmt(ctx, q)
	if err != nil {
		// A Row cannot carry an error of its own making; running the
		// query unprepared reports the same error through Scan.
		return t.w.conn.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Commit commits the transaction. It runs even if the caller's context has
// ended, so work that reached this point is not dropped half way.
func (t *wtx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	if _, err := t.w.exec(context.Background(), "COMMIT"); err != nil {
		return err // Rollback, deferred by the caller, ends it
	}
	t.done = true
	t.w.mu.Unlock()
	if t.w.committed != nil {
		t.w.committed()
	}
	return nil
}

// Rollback abandons the transaction unless it was committed; it is meant
// to be deferred.
func (t *wtx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	defer t.w.mu.Unlock()
	// SQLite may already have rolled back (an interrupted statement does);
	// then ROLLBACK reports that no transaction is active, which is fine.
	if _, err := t.w.exec(context.Background(), "ROLLBACK"); err != nil && !strings.Contains(err.Error(), "no transaction is active") {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// maxRows is the most rows one multi-row statement carries.
const maxRows = 256

// eachPiece calls f for consecutive ranges [lo, hi) covering n rows, each
// range a power of two no larger than maxRows, largest first. A multi-row
// statement built per range therefore comes in at most nine shapes, so the
// writer's statement cache stays small however batch sizes vary.
func eachPiece(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; {
		size := maxRows
		for size > n-lo {
			size >>= 1
		}
		if err := f(lo, lo+size); err != nil {
			return err
		}
		lo += size
	}
	return nil
}
