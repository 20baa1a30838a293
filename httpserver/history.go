package httpserver

import (
	"net/http"
	"strconv"

	"github.com/forcesync/forcesync"
)

// historyResponse is a record's newest attempts, newest first per mapping.
type historyResponse struct {
	Source   string              `json:"source"`
	Key      string              `json:"key"`
	Attempts []forcesync.Attempt `json:"attempts"`
}

// handleHistory serves GET /api/v1/sources/{source}/records/{key}/history
// ?mapping=M&limit=N: the record's attempts under each mapping it has a
// status in (or under M), at most N (1..HistoryKept) per mapping.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	source, key := r.PathValue("source"), r.PathValue("key")
	if !s.sources[source] {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source))
		return
	}
	hs, ok := forcesync.StoreAs[forcesync.HistoryStore](s.cfg.Store)
	if !ok {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "record history is not kept by this store"))
		return
	}
	limit := forcesync.HistoryKept
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > forcesync.HistoryKept {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "limit",
				Message: "must be an integer from 1 to " + strconv.Itoa(forcesync.HistoryKept)})
			return
		}
		limit = n
	}
	if _, err := s.cfg.Store.SourceRecord(r.Context(), source, key); err != nil {
		writeError(w, err)
		return
	}
	sts, err := s.cfg.Store.Statuses(r.Context(), source, key)
	if err != nil {
		writeError(w, err)
		return
	}
	only := r.URL.Query().Get("mapping")
	out := historyResponse{Source: source, Key: key, Attempts: []forcesync.Attempt{}}
	for _, st := range sts {
		if only != "" && st.Mapping != only {
			continue
		}
		h, err := hs.RecordHistory(r.Context(), st.Mapping, key, limit)
		if err != nil {
			writeError(w, err)
			return
		}
		out.Attempts = append(out.Attempts, h...)
	}
	writeJSON(w, http.StatusOK, out)
}
