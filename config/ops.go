package config

import (
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Operations settings (issue 9): the budget governor's reserve, realtime
// lane and /limits re-check, the retry backoff cap, and whether /metrics
// and /healthz need the API token.

// Defaults of the operations settings.
const (
	DefaultAPIReserve    = 0.1
	DefaultRealtimeLane  = 0.2
	DefaultLimitsRecheck = time.Minute
	DefaultMaxBackoff    = 10 * time.Minute
	AuthToken            = "token"
	AuthOpen             = "open"
)

// budgetKeys are the engine section's operations keys.
func (p *parser) budgetKeys(e *Engine) map[string]func(*yaml.Node, string) {
	return map[string]func(*yaml.Node, string){
		"api_reserve": func(v *yaml.Node, path string) {
			if f, ok := p.fraction(v, path); ok {
				e.APIReserve, e.reserveSet = f, true
			}
		},
		"api_realtime_lane": func(v *yaml.Node, path string) {
			if f, ok := p.fraction(v, path); ok {
				e.RealtimeLane, e.laneSet = f, true
			}
		},
		"limits_recheck": func(v *yaml.Node, path string) { e.LimitsRecheck, _ = p.duration(v, path) },
		"max_backoff":    func(v *yaml.Node, path string) { e.MaxBackoff, _ = p.duration(v, path) },
	}
}

// endpointAuthKeys adds the server section's metrics_auth and healthz_auth.
func (p *parser) endpointAuthKeys(keys map[string]func(*yaml.Node, string)) {
	keys["metrics_auth"] = func(v *yaml.Node, path string) {
		p.cfg.Server.MetricsAuth, _ = p.oneOf(v, path, AuthToken, AuthOpen)
	}
	keys["healthz_auth"] = func(v *yaml.Node, path string) {
		p.cfg.Server.HealthzAuth, _ = p.oneOf(v, path, AuthToken, AuthOpen)
	}
}

// opsDefaults fills the operations settings the file leaves out.
func (p *parser) opsDefaults() {
	c := p.cfg
	if !c.Engine.reserveSet {
		c.Engine.APIReserve = DefaultAPIReserve
	}
	if !c.Engine.laneSet {
		c.Engine.RealtimeLane = DefaultRealtimeLane
	}
	if c.Engine.LimitsRecheck == 0 {
		c.Engine.LimitsRecheck = DefaultLimitsRecheck
	}
	if c.Engine.MaxBackoff == 0 {
		c.Engine.MaxBackoff = DefaultMaxBackoff
	}
	if c.Server.HealthzAuth == "" {
		c.Server.HealthzAuth = AuthOpen
	}
	if c.Server.MetricsAuth == "" {
		c.Server.MetricsAuth = AuthOpen
		if c.Server.APITokenEnv != "" || c.Server.APIToken != "" {
			c.Server.MetricsAuth = AuthToken
		}
	}
}

// fraction reads a part 0 <= x < 1.
func (p *parser) fraction(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!int") {
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil && v >= 0 && v < 1 {
			return v, true
		}
	}
	p.errf(n, path, "expected a part from 0 up to (not including) 1, e.g. 0.1, got %s", kindName(n))
	return 0, false
}

// withKeys merges extra keys into keys.
func withKeys(keys map[string]func(*yaml.Node, string), extra map[string]func(*yaml.Node, string)) map[string]func(*yaml.Node, string) {
	for k, f := range extra {
		keys[k] = f
	}
	return keys
}
