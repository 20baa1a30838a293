package ingest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestCheckpointSavesAtOnce: pushes of one file saving their progress at
// the same moment all succeed, and what is left is one whole checkpoint
// and no temporary file.
func TestCheckpointSavesAtOnce(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(data, []byte("id\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	path := CheckpointPath(data)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 20 {
				cp := &Checkpoint{File: data, Source: "src", Size: fi.Size(), Modified: fi.ModTime().UTC(), Rows: int64(n)}
				if err := cp.Save(path); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	cp, note := LoadCheckpoint(path, fi, "src")
	if cp == nil || cp.Rows != 19 {
		t.Fatalf("checkpoint %+v (%s), want rows 19", cp, note)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files left: %v, want the data and its checkpoint", names)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("checkpoint mode %v %v, want 0644", st.Mode().Perm(), err)
	}
}
