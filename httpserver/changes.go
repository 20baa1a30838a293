package httpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/forcesync/forcesync"
)

// ChangesFeed is what the API needs of the pull side (package pull's Feed).
type ChangesFeed interface {
	// Changes lists pulled changes with a cursor (Seq) above after.
	Changes(ctx context.Context, after int64, limit int) ([]forcesync.PulledChange, error)
	// Changed returns a channel closed when new changes may have arrived.
	Changed() <-chan struct{}
	// Conflicts lists a source record's conflicts, newest first.
	Conflicts(ctx context.Context, source, key string) ([]forcesync.Conflict, error)
	// DeadLetters lists a mapping's webhook deliveries that gave up.
	DeadLetters(ctx context.Context, mapping string, limit int) ([]forcesync.Delivery, error)
	// Redeliver puts a mapping's dead letters (those of the events seqs
	// names; all when empty) back on their way and returns how many.
	Redeliver(ctx context.Context, mapping string, seqs []int64) (int, error)
}

// maxWait caps a long poll of the changes feed.
const maxWait = 60 * time.Second

// handleChanges serves GET /api/v1/changes?after=CURSOR&limit=N&wait=30s:
// the pulled changes after the cursor, oldest first, and the cursor to
// pass next. With wait, an empty answer waits up to that long (at most
// 60s) for changes to arrive.
func (s *Server) handleChanges(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Changes == nil {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "no mapping pulls from Salesforce: the changes feed is off"))
		return
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "after", Message: "must be a cursor from a previous answer (a non-negative integer)"})
			return
		}
		after = n
	}
	limit, err := limitParam(r, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxWait {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "wait", Message: "must be a duration from 0s to 60s, e.g. 30s"})
			return
		}
		wait = d
	}
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		changed := s.cfg.Changes.Changed() // taken before the read, so no signal is missed
		evs, err := s.cfg.Changes.Changes(r.Context(), after, limit)
		if err != nil {
			writeError(w, err)
			return
		}
		if len(evs) > 0 || deadline == nil {
			next := after
			if len(evs) > 0 {
				next = evs[len(evs)-1].Seq
			} else {
				evs = []forcesync.PulledChange{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"changes": evs, "next": strconv.FormatInt(next, 10)})
			return
		}
		select {
		case <-changed:
		case <-deadline:
			deadline = nil // answer what is there (nothing, most likely)
		case <-r.Context().Done():
			return
		}
	}
}

// handleDeadLetters serves GET /api/v1/mappings/{mapping}/dead-letters.
func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Changes == nil {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "no mapping pulls from Salesforce"))
		return
	}
	limit, err := limitParam(r, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	ds, err := s.cfg.Changes.DeadLetters(r.Context(), r.PathValue("mapping"), limit)
	if err != nil {
		writeError(w, err)
		return
	}
	type dead struct {
		Event     forcesync.PulledChange `json:"event"`
		Attempts  int                    `json:"attempts"`
		LastError string                 `json:"last_error"`
	}
	out := []dead{}
	for _, d := range ds {
		out = append(out, dead{d.Change, d.Attempts, d.LastError})
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": out})
}

// maxRedeliver caps the seqs one redeliver request names.
const maxRedeliver = 10000

// handleRedeliver serves POST /api/v1/mappings/{mapping}/dead-letters/redeliver
// with an optional body {"seqs": [17, 18]}: those dead letters (all of the
// mapping's without seqs) go back to pending, posted again by the webhook's
// deliverer with their attempts counted afresh. It answers how many.
func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Changes == nil {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "no mapping pulls from Salesforce"))
		return
	}
	var req struct {
		Seqs []int64 `json:"seqs"`
	}
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "seqs", Message: "redeliver body: want {\"seqs\": [event seq numbers]}: " + err.Error()})
			return
		}
		if dec.More() {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Message: "redeliver body: one JSON object, nothing after it"})
			return
		}
	}
	if len(req.Seqs) > maxRedeliver {
		writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "seqs", Message: fmt.Sprintf("at most %d per request", maxRedeliver)})
		return
	}
	for _, seq := range req.Seqs {
		if seq <= 0 {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "seqs", Message: fmt.Sprintf("%d is not an event seq (numbers from 1)", seq)})
			return
		}
	}
	n, err := s.cfg.Changes.Redeliver(r.Context(), r.PathValue("mapping"), req.Seqs)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"redelivered": n})
}
