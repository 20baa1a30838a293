package ingest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Checkpoint is a file push's progress file: how many data rows of which
// file are durably in the store. The file's size and modification time
// tell a changed file from the same one.
type Checkpoint struct {
	File     string    `json:"file"`
	Source   string    `json:"source"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	Rows     int64     `json:"rows_accepted"`
}

// CheckpointPath is where the checkpoint of file lives.
func CheckpointPath(file string) string { return file + ".forcesync-progress" }

// LoadCheckpoint reads the checkpoint at path if it belongs to the file fi
// (same size and modification time) and source. Otherwise it returns nil
// and, when a checkpoint was there but does not fit, a note saying why it
// is ignored.
func LoadCheckpoint(path string, fi os.FileInfo, source string) (*Checkpoint, string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ""
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Sprintf("ignoring unreadable progress file %s", path)
	}
	if cp.Size != fi.Size() || !cp.Modified.Equal(fi.ModTime().UTC()) || cp.Source != source {
		return nil, fmt.Sprintf("ignoring progress file %s: the file or the source changed since", path)
	}
	return &cp, ""
}

// Save writes the checkpoint atomically: a crash leaves the old or the new one.
func (cp *Checkpoint) Save(path string) error {
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return err
	}
	// A temporary file of its own: two pushes of one file (started
	// together, say) sharing one temporary name renamed it from under
	// each other and one failed.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
