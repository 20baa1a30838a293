package config

import (
	"strconv"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"go.yaml.in/yaml/v3"
)

// operations reads a mapping's operations: the create and update switches,
// and the lifecycle ones (disable, deprovision, remove_action, disable_when,
// disable_with). delete is the older spelling of remove_action (true means
// delete, false ignore); giving both is refused.
func (p *parser) operations(n *yaml.Node, path string, o *forcesync.Operations) {
	var removeSet bool
	setRemove := func(v *yaml.Node, path string, a forcesync.DeleteAction) {
		if removeSet {
			p.errf(v, path, "set one of remove_action and delete (delete is its older name)")
			return
		}
		removeSet = true
		o.Delete = a
	}
	p.object(n, path, map[string]func(*yaml.Node, string){
		"create": func(v *yaml.Node, path string) {
			if b, ok := p.boolean(v, path); ok {
				o.NoCreate = !b
			}
		},
		"update": func(v *yaml.Node, path string) {
			if b, ok := p.boolean(v, path); ok {
				o.NoUpdate = !b
			}
		},
		"disable": func(v *yaml.Node, path string) {
			if b, ok := p.boolean(v, path); ok {
				o.NoDisable = !b
			}
		},
		"deprovision": func(v *yaml.Node, path string) {
			if b, ok := p.boolean(v, path); ok {
				o.NoDeprovision = !b
			}
		},
		"delete": func(v *yaml.Node, path string) {
			if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				if b, ok := p.boolean(v, path); ok {
					a := forcesync.DeleteIgnore
					if b {
						a = forcesync.DeleteDelete
					}
					setRemove(v, path, a)
				}
				return
			}
			if s, ok := p.oneOf(v, path, "delete", "ignore"); ok {
				setRemove(v, path, forcesync.DeleteAction(s))
			}
		},
		"remove_action": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "delete", "deactivate", "ignore"); ok {
				setRemove(v, path, forcesync.DeleteAction(s))
			}
		},
		"disable_when": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if err := mapping.CheckFilter(s); err != nil {
					p.errf(v, path, "%s", exprError(err))
				}
				o.DisableWhen = s
			}
		},
		"disable_with":           func(v *yaml.Node, path string) { p.disableWith(v, path, o) },
		"create_disabled":        func(v *yaml.Node, path string) { o.CreateDisabled, _ = p.boolean(v, path) },
		"deprovision_on_removal": func(v *yaml.Node, path string) { o.DeprovisionOnRemoval, _ = p.boolean(v, path) },
		"demote": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "hold", "recreate_lead"); ok {
				o.Demote = forcesync.DemoteAction(s)
			}
		},
		"portal_user": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "hold", "deactivate"); ok {
				o.PortalUser = forcesync.PortalFallback(s)
			}
		},
	})
}

// disableWith reads what disabling does: the word remove_action, or a
// mapping of Salesforce field: value written to the record.
func (p *parser) disableWith(n *yaml.Node, path string, o *forcesync.Operations) {
	if n.Kind == yaml.ScalarNode {
		if _, ok := p.oneOf(n, path, "remove_action"); ok {
			o.DisableRemoves = true
		}
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "expected remove_action or a mapping of Salesforce field: value, got %s", kindName(n))
		return
	}
	o.DisableWrites = map[string]any{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			p.errf(k, path, "keys must be Salesforce field names")
			continue
		}
		p.apiName(k, kp, k.Value)
		if seen[strings.ToLower(k.Value)] {
			p.errf(k, kp, "repeated field")
			continue
		}
		seen[strings.ToLower(k.Value)] = true
		if v.Kind != yaml.ScalarNode {
			p.errf(v, kp, "expected a single value, got %s", kindName(v))
			continue
		}
		if x, ok := p.value(v, kp); ok {
			o.DisableWrites[k.Value] = x
		}
	}
	if len(o.DisableWrites) == 0 {
		p.errf(n, path, "give at least one field: value, or remove_action")
	}
}

// guard reads a mapping's mass-change guard: false turns it off; or
// max_records, max_percent and window.
func (p *parser) guard(n *yaml.Node, path string, g *forcesync.GuardLimits) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if b, ok := p.boolean(n, path); ok && !b {
			g.Off = true
		} else if ok {
			p.errf(n, path, "guard: true is the default; give false, or max_records, max_percent, window")
		}
		return
	}
	p.object(n, path, map[string]func(*yaml.Node, string){
		"max_records": func(v *yaml.Node, path string) { g.MaxRecords, _ = p.integer(v, path, 1, 1<<31-1) },
		"max_percent": func(v *yaml.Node, path string) {
			f, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || err != nil || f <= 0 || f > 100 {
				p.errf(v, path, "expected a percentage above 0 and at most 100 (e.g. 20), got %s", kindName(v))
				return
			}
			g.MaxPercent = f
		},
		"window": func(v *yaml.Node, path string) {
			if d, ok := p.duration(v, path); ok {
				if d <= 0 {
					p.errf(v, path, "must be positive")
				}
				g.Window = d
			}
		},
	})
}

// user reads a User mapping's options.
func (p *parser) user(n *yaml.Node, path string, u *forcesync.UserOptions) {
	p.object(n, path, map[string]func(*yaml.Node, string){
		"username_suffix": func(v *yaml.Node, path string) { u.UsernameSuffix, _ = p.nonEmpty(v, path) },
		"time_zone":       func(v *yaml.Node, path string) { u.TimeZone, _ = p.nonEmpty(v, path) },
		"locale":          func(v *yaml.Node, path string) { u.Locale, _ = p.nonEmpty(v, path) },
		"email_encoding":  func(v *yaml.Node, path string) { u.EmailEncoding, _ = p.nonEmpty(v, path) },
		"language":        func(v *yaml.Node, path string) { u.Language, _ = p.nonEmpty(v, path) },
	})
}

// MappingNames returns the names of every mapping of the config, for the
// engines to tell a mapping removed from the config from one another
// connection serves.
func (c *Config) MappingNames() []string {
	out := make([]string, len(c.Mappings))
	for i := range c.Mappings {
		out[i] = c.Mappings[i].Name
	}
	return out
}
