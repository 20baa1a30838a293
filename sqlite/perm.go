package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// fileMode is the permission of the database file and of SQLite's -wal and
// -shm files beside it: they hold every person's data, so only the owner
// may read them.
const fileMode fs.FileMode = 0o600

// privateFiles makes the database file at path exist with mode 0600 before
// SQLite opens it, and tightens an existing database, -wal or -shm file
// that others could read. SQLite creates -wal and -shm with the database
// file's own permission bits (and fchmods them, so the umask does not
// widen or narrow them), which is why fixing the main file first is enough
// for the files it creates later.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %s: %w", p, err)
		}
		if fi.Mode().Perm() == fileMode {
			continue
		}
		// The umask may have narrowed or a past version widened the
		// mode: set it exactly, whatever the umask.
		if err := os.Chmod(p, fileMode); err != nil {
			return fmt.Errorf("sqlite: %s is readable by others (mode %v) and could not be made private: %w (run chmod 600 on it)", p, fi.Mode().Perm(), err)
		}
	}
	return nil
}
