package filepush

import (
	"context"
	"encoding/csv"
	"os"
	"strings"

	"github.com/forcesync/forcesync"
)

// Failures lists the held and retrying records of the mappings.
func Failures(ctx context.Context, st forcesync.Store, mappings []string) ([]forcesync.RecordStatus, error) {
	var out []forcesync.RecordStatus
	for _, m := range mappings {
		fs, err := st.List(ctx, forcesync.StatusFilter{Mapping: m,
			States: []forcesync.State{forcesync.StateHeld, forcesync.StateRetrying}, Limit: 10_000_000})
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// WriteFailures writes one CSV row per failed record to path.
func WriteFailures(path string, sts []forcesync.RecordStatus) error {
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
