package httpserver

import (
	"context"
	"net/http"

	"github.com/forcesync/forcesync"
)

// handleApprove lifts the mass-change guard's pause of a mapping:
// 200 {"requeued": n}. With ?keep=true, for a mapping removed from the
// config, it keeps the mapping's records instead: 200 {"requeued": 0,
// "kept": true}. 404 for a mapping neither configured nor removed.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	m := r.PathValue("mapping")
	known, err := s.knownOrRemoved(r.Context(), m)
	if err != nil {
		writeError(w, err)
		return
	}
	if !known {
		writeError(w, forcesync.Errorf(forcesync.ENotFound, "unknown mapping %q", m))
		return
	}
	if s.cfg.Approve == nil {
		writeError(w, forcesync.Errorf(forcesync.EUnavailable, "approving is not served by this server"))
		return
	}
	switch keep := r.URL.Query().Get("keep"); keep {
	case "", "false":
	case "true":
		if s.cfg.Keep == nil {
			writeError(w, forcesync.Errorf(forcesync.EUnavailable, "keeping a removed mapping's records is not served by this server"))
			return
		}
		if err := s.cfg.Keep(r.Context(), m); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"requeued": 0, "kept": true})
		return
	default:
		writeError(w, forcesync.Errorf(forcesync.EInvalid, "keep: %q is not true or false", keep))
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

// knownOrRemoved reports whether m is a mapping a source feeds, or one
// removed from the config whose records wait to be deprovisioned.
func (s *Server) knownOrRemoved(ctx context.Context, m string) (bool, error) {
	if s.knownMapping(m) {
		return true, nil
	}
	memos, err := s.cfg.Store.MappingMemos(ctx)
	if err != nil {
		return false, err
	}
	for _, mm := range memos {
		if mm.Name == m && mm.Removal == forcesync.RemovalDeprovisioning {
			return true, nil
		}
	}
	return false, nil
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
