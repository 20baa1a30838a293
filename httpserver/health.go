package httpserver

import (
	"net/http"
	"time"

	"github.com/forcesync/forcesync"
)

// ConnectionHealth is one org's state as /healthz shows it.
type ConnectionHealth struct {
	Name string `json:"name"`
	// OK is false while login fails or the org cannot be reached.
	OK     bool      `json:"ok"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	// Budget is the API budget governor's state.
	Budget BudgetHealth `json:"budget"`
	// PausedMappings are the mappings a schema change paused, with why.
	PausedMappings []MappingPause `json:"paused_mappings,omitempty"`
}

// MappingPause is a mapping paused by a schema change.
type MappingPause struct {
	Mapping string `json:"mapping"`
	Reason  string `json:"reason"`
}

// BudgetHealth is the budget governor's state of one org.
type BudgetHealth struct {
	// Paused lists the lanes that wait (backfill, realtime); empty when running.
	Paused   []string  `json:"paused,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
	OwnCalls int       `json:"own_calls_24h"`
	Budget   int       `json:"budget"`
	OrgUsed  int       `json:"org_used"`
	OrgMax   int       `json:"org_max"`
}

// ToBudgetHealth is b as /healthz and `forcesync status --json` write it.
func ToBudgetHealth(b forcesync.BudgetState) BudgetHealth {
	return BudgetHealth{Paused: b.Paused, Reason: b.Reason, Since: b.Since, ResumeAt: b.ResumeAt,
		OwnCalls: b.Own, Budget: b.Budget, OrgUsed: b.OrgUsed, OrgMax: b.OrgMax}
}

// healthBody is the answer of /healthz.
type healthBody struct {
	// Status is "ok", "paused" (the budget governor holds some work back:
	// healthy, by design) or "unhealthy" (answered with 503).
	Status string `json:"status"`
	// Reason says why the status is not ok.
	Reason string `json:"reason,omitempty"`
	// Paused is why all pushing is paused ("" otherwise).
	Paused      string             `json:"paused,omitempty"`
	Connections []ConnectionHealth `json:"connections,omitempty"`
}

// handleHealth answers 200 while every org can be reached and logged in
// to, and 503 with the reason otherwise. A budget pause is not a failure:
// it is shown (status "paused", with the reason and the expected resume
// time) and answered 200.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := healthBody{Status: "ok", Paused: s.cfg.Engine.Paused()}
	if s.cfg.Health != nil {
		body.Connections = s.cfg.Health()
	}
	code := http.StatusOK
	for _, c := range body.Connections {
		if !c.OK {
			if code == http.StatusOK {
				body.Status, body.Reason = "unhealthy", c.Name+": "+c.Reason
			}
			code = http.StatusServiceUnavailable
		}
	}
	if code == http.StatusOK {
		for _, c := range body.Connections {
			if len(c.Budget.Paused) > 0 {
				body.Status, body.Reason = "paused", c.Name+": "+c.Budget.Reason
				break
			}
		}
		if body.Status == "ok" && body.Paused != "" {
			body.Status, body.Reason = "paused", body.Paused
		}
		for _, c := range body.Connections {
			if body.Status == "ok" && len(c.PausedMappings) > 0 {
				body.Status, body.Reason = "paused", c.Name+": mapping "+c.PausedMappings[0].Mapping+": "+c.PausedMappings[0].Reason
			}
		}
	}
	writeJSON(w, code, body)
}

// endpointAuth puts h behind the API token when needToken is set.
func (s *Server) endpointAuth(needToken bool, h http.HandlerFunc) http.HandlerFunc {
	if !needToken {
		return h
	}
	return s.authed(h)
}
