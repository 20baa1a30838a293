package config

import (
	"strings"
	"time"

	forcesync "github.com/forcesync/forcesync"
	"go.yaml.in/yaml/v3"
)

// pull reads a mapping's pull: block (direction pull or both).
//
//	pull:
//	  poll_interval: 30s
//	  conflict: newest_wins          # app_wins, salesforce_wins, newest_wins
//	  retention: 168h                # changes kept in the feed (default 7 days)
//	  into: [source, changes, webhook]
//	  webhook:
//	    url: https://app.example.com/hooks/forcesync
//	    secret_env: FORCESYNC_WEBHOOK_SECRET
//	    max_attempts: 8
func (p *parser) pull(i int, n *yaml.Node, path string) *forcesync.PullConfig {
	c := &forcesync.PullConfig{}
	p.object(n, path, map[string]func(*yaml.Node, string){
		"poll_interval": func(v *yaml.Node, path string) {
			if d, ok := p.duration(v, path); ok {
				if d <= 0 {
					p.errf(v, path, "must be positive, e.g. 30s")
				}
				c.PollInterval = d
			}
		},
		"retention": func(v *yaml.Node, path string) {
			// Longer than the common duration's 24h cap: days to a year.
			d, err := time.ParseDuration(v.Value)
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || err != nil || d < time.Hour || d > 8760*time.Hour {
				p.errf(v, path, "expected a duration from 1h to 8760h, e.g. 168h (a week), got %s: a shorter one expires the cursors of feed readers that pause briefly", kindName(v))
				return
			}
			c.Retention = d
		},
		"conflict": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "app_wins", "salesforce_wins", "newest_wins"); ok {
				c.Conflict = forcesync.ConflictPolicy(s)
			}
		},
		"into": func(v *yaml.Node, path string) {
			if ss, ok := p.strs(v, path); ok {
				for _, s := range ss {
					switch s {
					case forcesync.SinkSource, forcesync.SinkChanges, forcesync.SinkWebhook:
					default:
						p.errf(v, path, "%q is not one of source, changes, webhook", s)
					}
				}
				c.Into = ss
			}
		},
		"webhook": func(v *yaml.Node, path string) { c.Webhook = p.webhook(i, v, path) },
	})
	return c
}

func (p *parser) webhook(i int, n *yaml.Node, path string) *forcesync.Webhook {
	w := &forcesync.Webhook{}
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"url": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
					p.errf(v, path, "%q is not an http(s) URL", s)
				}
				w.URL = s
			}
		},
		"max_attempts": func(v *yaml.Node, path string) { w.MaxAttempts, _ = p.integer(v, path, 1, 100) },
	}
	p.secretKeys(keys, "secret", given, func(c *Config, v string) { c.Mappings[i].Pull.Webhook.Secret = v })
	p.envNames(keys, "secret", func(name string) { w.SecretEnv = name })
	if !p.object(n, path, keys) {
		return w
	}
	if w.URL == "" {
		p.errf(n, path, "url is required")
	}
	if given["secret"] == nil {
		p.errf(n, path, "secret is required (secret: ${WEBHOOK_SECRET} or secret_env: WEBHOOK_SECRET): deliveries are always signed")
	}
	return w
}
