package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/forcesync/forcesync"
)

// ingestResponse answers an ingest call.
type ingestResponse struct {
	Accepted int       `json:"accepted"`
	Ignored  int       `json:"ignored"` // older than (or equal to) the stored version
	Rejected int       `json:"rejected"`
	Problems []Problem `json:"problems,omitempty"`
}

// handleIngest accepts changes. It answers 202 only after the accepted
// changes are durable in the store; records with problems are listed and
// not accepted; a body where every record has a problem is a 400.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	if !s.sources[source] {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source))
		return
	}
	if err := checkMediaType(r); err != nil {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: forcesync.ErrorMessage(err), Code: forcesync.EInvalid})
		return
	}
	// A misspelt priority would quietly send a backfill down the realtime
	// lane, spending the share kept for realtime changes: refuse it.
	backfill := false
	switch p := r.URL.Query().Get("priority"); p {
	case "", "realtime":
	case "backfill":
		backfill = true
	default:
		writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "priority",
			Message: fmt.Sprintf("%q is not a priority: use backfill, or realtime (the default)", p)})
		return
	}
	mappings := s.cfg.Engine.MappingsFor(source)
	if m, n, err := s.overBacklog(r.Context(), mappings); err != nil {
		s.cfg.Logger.Error("backlog check failed", "source", source, "err", err)
		writeError(w, err)
		return
	} else if m != "" {
		writeOverloaded(w, http.StatusTooManyRequests, retryBacklog,
			fmt.Sprintf("mapping %s has %d changes waiting (server.max_backlog); send again later", m, n))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
	changes, probs, err := DecodeIngest(r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(changes) == 0 && len(probs) > 0 {
		s.metrics.rejected.WithLabelValues(source).Add(float64(len(probs)))
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "no record was valid", Code: forcesync.EInvalid, Problems: probs})
		return
	}
	now := s.cfg.Now()
	for i := range changes {
		changes[i].Source = source
		changes[i].Received = now
		if backfill {
			changes[i].Priority = forcesync.PriorityBackfill
		}
	}
	release, ok := s.acceptTurn(r.Context())
	if !ok {
		writeOverloaded(w, http.StatusServiceUnavailable, retrySlowStore, "the store is busy; send again later")
		return
	}
	res, err := s.cfg.Store.Accept(r.Context(), mappings, changes)
	release()
	if err != nil {
		s.cfg.Logger.Error("accept failed", "source", source, "err", err)
		writeError(w, err)
		return
	}
	out := ingestResponse{Rejected: len(probs), Problems: probs}
	for _, a := range res {
		if a.Ignored {
			out.Ignored++
		} else {
			out.Accepted++
		}
	}
	s.added(mappings, out.Accepted)
	s.metrics.accepted.WithLabelValues(source).Add(float64(out.Accepted))
	s.metrics.rejected.WithLabelValues(source).Add(float64(out.Rejected))
	s.cfg.Engine.Notify()
	writeJSON(w, http.StatusAccepted, out)
}

type recordResponse struct {
	Source   string         `json:"source"`
	Key      string         `json:"key"`
	Version  int64          `json:"version"`
	Deleted  bool           `json:"deleted"`
	Fields   map[string]any `json:"fields"`
	Updated  time.Time      `json:"updated"`
	Mappings []StatusJSON   `json:"mappings"`
	// Conflicts are the fields both sides changed, as pulls found them
	// (two-way mappings), newest first; absent without pulled mappings.
	Conflicts []forcesync.Conflict `json:"conflicts,omitempty"`
	// Unreadable is set, and Fields null, when the stored fields cannot be
	// read back (forcesync.CodeUnreadableRecord, naming the field).
	Unreadable *forcesync.RecordError `json:"unreadable,omitempty"`
}

// StatusJSON is a record's status under one mapping as the API writes it
// (and `forcesync status --json` its failures).
type StatusJSON struct {
	Mapping string `json:"mapping"`
	// Source and Key are set in lists (failures), not in a record's own
	// statuses.
	Source       string                 `json:"source,omitempty"`
	Key          string                 `json:"key,omitempty"`
	State        forcesync.State        `json:"state"`
	SalesforceID string                 `json:"salesforce_id,omitempty"`
	Error        *forcesync.RecordError `json:"error,omitempty"`
	Warnings     []string               `json:"warnings,omitempty"`
	Attempts     int                    `json:"attempts"`
	NextAttempt  *time.Time             `json:"next_attempt,omitempty"`
	Updated      time.Time              `json:"updated"`
	// Version is the source version the state describes.
	Version int64 `json:"version"`
}

// ToStatusJSON returns st as the API writes it, with its source and key
// when withKey is set; next_attempt only while the record is retrying.
func ToStatusJSON(st forcesync.RecordStatus, withKey bool) StatusJSON {
	out := StatusJSON{Mapping: st.Mapping, State: st.State, SalesforceID: st.SalesforceID, Error: st.Error,
		Warnings: st.Warnings, Attempts: st.Attempts, Updated: st.Updated, Version: st.Version}
	if withKey {
		out.Source, out.Key = st.Source, st.Key
	}
	if st.State == forcesync.StateRetrying && !st.NextAttempt.IsZero() {
		t := st.NextAttempt
		out.NextAttempt = &t
	}
	return out
}

// RunJSON is a run (one batch pushed or pulled) as the API
// (GET /api/v1/runs) and `forcesync status --json` write it.
type RunJSON struct {
	ID      int64  `json:"id"`
	Mapping string `json:"mapping"`
	// API is "collections", "bulk" or "rest".
	API     string    `json:"api"`
	Started time.Time `json:"started"`
	// Finished is omitted while unknown (a run the store kept unfinished).
	Finished time.Time `json:"finished,omitzero"`
	Records  int       `json:"records"`
	Created  int       `json:"created"`
	Updated  int       `json:"updated"`
	// Unchanged counts records settled without a call.
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	APICalls  int `json:"api_calls"`
}

// ToRunJSON returns r as the API writes it.
func ToRunJSON(r forcesync.Run) RunJSON {
	return RunJSON{ID: r.ID, Mapping: r.Mapping, API: r.API, Started: r.Started, Finished: r.Finished, Records: r.Records,
		Created: r.Created, Updated: r.Updated, Unchanged: r.Unchanged, Deleted: r.Deleted, Failed: r.Failed,
		Skipped: r.Skipped, APICalls: r.APICalls}
}

func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request) {
	source, key := r.PathValue("source"), r.PathValue("key")
	if !s.sources[source] {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source))
		return
	}
	rec, err := s.cfg.Store.SourceRecord(r.Context(), source, key)
	unreadable, ok := errors.AsType[*forcesync.RecordError](err)
	if ok && unreadable.Code == forcesync.CodeUnreadableRecord && rec != nil {
		// Old data the store cannot read back: the record and its
		// statuses, with what is wrong instead of its fields (a number
		// past float64's range would fail many clients' decoding too).
		err, rec.Fields = nil, nil
	} else {
		unreadable = nil
	}
	if err != nil {
		writeError(w, err)
		return
	}
	sts, err := s.cfg.Store.Statuses(r.Context(), source, key)
	if err != nil {
		writeError(w, err)
		return
	}
	out := recordResponse{Source: source, Key: key, Version: rec.Version, Deleted: rec.Deleted, Fields: rec.Fields,
		Updated: rec.Updated, Mappings: []StatusJSON{}, Unreadable: unreadable}
	for _, st := range sts {
		out.Mappings = append(out.Mappings, ToStatusJSON(st, false))
	}
	if s.cfg.Changes != nil {
		if out.Conflicts, err = s.cfg.Changes.Conflicts(r.Context(), source, key); err != nil {
			writeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// recordsPage is a page of a source's live records, in key order. Next is
// the last key of the page, to pass as after for the next one; it is
// empty on the last page.
type recordsPage struct {
	Records []recordJSON `json:"records"`
	Next    string       `json:"next"`
}

// recordJSON is a live record in a list: its stored state, without the
// statuses GET .../records/{key} adds.
type recordJSON struct {
	Key     string         `json:"key"`
	Version int64          `json:"version"`
	Fields  map[string]any `json:"fields"`
	Updated time.Time      `json:"updated"`
	// Unreadable is set, and Fields null, when the stored fields cannot be
	// read back, as in GET .../records/{key}.
	Unreadable *forcesync.RecordError `json:"unreadable,omitempty"`
}

// handleRecords lists a source's live (not deleted) records, one page at
// a time by key: what an application reads to start again from the store's
// state, e.g. after the changes feed answered 410.
func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	if !s.sources[source] {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", source))
		return
	}
	n, err := limitParam(r, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	if n > maxRecordsPage {
		writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", maxRecordsPage)})
		return
	}
	// One more than asked tells whether a page follows.
	recs, err := s.cfg.Store.SourceRecords(r.Context(), forcesync.SourceQuery{Source: source, After: r.URL.Query().Get("after"), Limit: n + 1})
	if err != nil {
		writeError(w, err)
		return
	}
	out := recordsPage{Records: []recordJSON{}}
	for i, rec := range recs {
		if i == n {
			out.Next = recs[n-1].Key
			break
		}
		out.Records = append(out.Records, recordJSON{Key: rec.Key, Version: rec.Version, Fields: rec.Fields, Updated: rec.Updated,
			Unreadable: rec.Unreadable})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleNoRoute answers a request no /api/v1 route takes.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	writeError(w, forcesync.Errorf(forcesync.ENotFound, "no API route %s %s; GET /api/v1/openapi.json lists them", r.Method, r.URL.Path))
}

// maxRecordsPage caps a page of GET /api/v1/sources/{source}/records.
const maxRecordsPage = 1000

func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, &forcesync.Error{Code: forcesync.EInvalid, Field: "limit", Message: "must be an integer from 1 to 10000"}
	}
	return n, nil
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	n, err := limitParam(r, 50)
	if err != nil {
		writeError(w, err)
		return
	}
	runs, err := s.cfg.Store.Runs(r.Context(), n)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]RunJSON, len(runs))
	for i, r := range runs {
		out[i] = ToRunJSON(r)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

func (s *Server) handleFailures(w http.ResponseWriter, r *http.Request) {
	n, err := limitParam(r, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	sts, err := s.cfg.Store.List(r.Context(), forcesync.StatusFilter{Mapping: r.URL.Query().Get("mapping"),
		States: []forcesync.State{forcesync.StateHeld, forcesync.StateRetrying}, Limit: n})
	if err != nil {
		writeError(w, err)
		return
	}
	out := []StatusJSON{}
	for _, st := range sts {
		out = append(out, ToStatusJSON(st, true))
	}
	writeJSON(w, http.StatusOK, map[string]any{"failures": out})
}

// handleRetry requeues held records of a mapping: the keys in the body
// ({"keys":[...]}), or every held record when the body is empty.
func (s *Server) handleRetry(w http.ResponseWriter, r *http.Request) {
	m := r.PathValue("mapping")
	known := false
	for _, src := range s.cfg.Sources {
		for _, name := range s.cfg.Engine.MappingsFor(src) {
			known = known || name == m
		}
	}
	if !known {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown mapping %q", m))
		return
	}
	var body struct {
		Keys []string `json:"keys"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
		writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "keys", Message: "body must be {\"keys\": [..]} or empty"})
		return
	}
	n, err := s.cfg.Store.Requeue(r.Context(), m, body.Keys)
	if err != nil {
		writeError(w, err)
		return
	}
	s.cfg.Engine.Notify()
	writeJSON(w, http.StatusAccepted, map[string]int{"requeued": n})
}
