package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// migrateLockSuffix names the file beside the database that processes
// opening it take turns on while they migrate. SQLite's own locks cannot
// serve: goose runs each migration in a transaction of its own, so a
// process holding the write lock across all of them would block its own
// migrations, and without a lock across them two processes opening a new
// file both see no migration applied and both run the first one.
const migrateLockSuffix = "-migrate.lock"

// migrateLockPoll is how often a process waiting for another's migration
// tries the lock again.
const migrateLockPoll = 20 * time.Millisecond

// lockMigrations takes the exclusive lock that processes migrating the
// database at path take turns on, waiting (until ctx ends) while another
// holds it, and returns its release. The lock is flock(2)'s, on a file of
// its own: SQLite locks the database file with fcntl(2), and on some
// systems the two kinds meet on one file. The operating system releases
// the lock of a process that dies holding it.
func lockMigrations(ctx context.Context, path string) (unlock func(), err error) {
	name := path + migrateLockSuffix
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration lock %s: %w", name, err)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("sqlite: migration lock %s: %w", name, err)
		}
		t.Reset(migrateLockPoll)
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("sqlite: waiting for another process to migrate %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}
