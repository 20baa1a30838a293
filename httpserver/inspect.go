package httpserver

import (
	"context"
	"net/http"

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
