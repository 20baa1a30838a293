package httpserver

import (
	"net/http"

	"github.com/forcesync/forcesync"
)

// handleApprove lifts the mass-change guard's pause of a mapping:
// 200 {"requeued": n}; 404 for a mapping no source feeds.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	m := r.PathValue("mapping")
	if !s.knownMapping(m) {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown mapping %q", m))
		return
	}
	if s.cfg.Approve == nil {
		writeError(w, forcesync.Errorf(forcesync.EUnavailable, "approving is not served by this server"))
		return
	}
	n, err := s.cfg.Approve(r.Context(), m)
	if err != nil {
		writeError(w, err)
		return
	}
	s.cfg.Engine.Notify()
	writeJSON(w, http.StatusOK, map[string]int{"requeued": n})
}

// handleGuard lists the mass-change guard's state of every guarded name:
// 200 {"guards": [...]}.
func (s *Server) handleGuard(w http.ResponseWriter, r *http.Request) {
	sts, err := s.cfg.Store.GuardStates(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	if sts == nil {
		sts = []forcesync.GuardState{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"guards": sts})
}

func (s *Server) knownMapping(m string) bool {
	for _, src := range s.cfg.Sources {
		for _, name := range s.cfg.Engine.MappingsFor(src) {
			if name == m {
				return true
			}
		}
	}
	return false
}
