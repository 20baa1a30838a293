package httpserver

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/forcesync/forcesync"
)

// Inspect answers the questions of issue 12: what the next push would do
// (plan) and where Salesforce drifted from forcesync (reconcile). The
// serve command implements it over its engines.
type Inspect interface {
	// Plan returns what the next push of mappings (all when none) would
	// do, as a JSON-encodable value; it writes nothing. An unknown mapping
	// is a forcesync.ENotFound error.
	Plan(ctx context.Context, mappings []string) (any, error)
	// Reconcile compares a mapping's records with Salesforce, stores the
	// run and, with req.Heal, makes the repairs. A heal the mapping's
	// mass-change guard paused is a forcesync.EConflict error, a reconcile
	// the API budget refuses a forcesync.EUnavailable one; the run is
	// returned all the same.
	Reconcile(ctx context.Context, mapping string, req ReconcileRequest) (*forcesync.ReconcileRun, []forcesync.Finding, error)
}

// ReconcileRequest is the body of POST /api/v1/mappings/{mapping}/reconcile.
// A heal goes through the mapping's mass-change guard (approve the
// mapping to let a paused heal through).
type ReconcileRequest struct {
	Heal bool `json:"heal"`
}

// reconcileResponse is a run with its findings.
type reconcileResponse struct {
	Run      *forcesync.ReconcileRun `json:"run,omitempty"`
	Findings []forcesync.Finding     `json:"findings"`
	Error    string                  `json:"error,omitempty"`
}

// handleReconcile serves POST /api/v1/mappings/{mapping}/reconcile.
func (s *Server) handleReconcile(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Inspect == nil {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "reconcile is not served here"))
		return
	}
	var req ReconcileRequest
	if r.ContentLength != 0 {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Message: "reconcile body: " + err.Error()})
			return
		}
	}
	run, fs, err := s.cfg.Inspect.Reconcile(r.Context(), r.PathValue("mapping"), req)
	if fs == nil {
		fs = []forcesync.Finding{}
	}
	switch {
	case err != nil && run == nil:
		s.cfg.Logger.Error("reconcile failed", "mapping", r.PathValue("mapping"), "err", err)
		writeError(w, err)
	case err != nil:
		st := http.StatusInternalServerError
		switch forcesync.ErrorCode(err) {
		case forcesync.EConflict:
			st = http.StatusConflict
		case forcesync.EUnavailable:
			st = http.StatusServiceUnavailable
		}
		writeJSON(w, st, reconcileResponse{Run: run, Findings: fs, Error: forcesync.ErrorMessage(err)})
	default:
		writeJSON(w, http.StatusOK, reconcileResponse{Run: run, Findings: fs})
	}
}

// handleReconcileRuns serves GET /api/v1/reconcile/runs?mapping=M&limit=N.
func (s *Server) handleReconcileRuns(w http.ResponseWriter, r *http.Request) {
	in, ok := forcesync.StoreAs[forcesync.Inspector](s.cfg.Store)
	if !ok {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "reconcile runs are not kept by this store"))
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "limit", Message: "want a number from 1 to 1000"})
			return
		}
		limit = n
	}
	runs, err := in.ReconcileRuns(r.Context(), r.URL.Query().Get("mapping"), limit)
	if err != nil {
		writeError(w, err)
		return
	}
	if runs == nil {
		runs = []forcesync.ReconcileRun{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// handleReconcileRun serves GET /api/v1/reconcile/runs/{id}: its findings.
func (s *Server) handleReconcileRun(w http.ResponseWriter, r *http.Request) {
	in, ok := forcesync.StoreAs[forcesync.Inspector](s.cfg.Store)
	if !ok {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "reconcile runs are not kept by this store"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, &forcesync.Error{Code: forcesync.EInvalid, Field: "id", Message: "want a run id"})
		return
	}
	fs, err := in.Findings(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	if fs == nil {
		fs = []forcesync.Finding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "findings": fs})
}

// handlePlan serves GET /api/v1/plan?mapping=M (repeatable; all when none).
func (s *Server) handlePlan(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Inspect == nil {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "plans are not served here"))
		return
	}
	p, err := s.cfg.Inspect.Plan(r.Context(), r.URL.Query()["mapping"])
	if err != nil {
		s.cfg.Logger.Error("plan failed", "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
