package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
)

// pos remembers where a named thing was declared, for cross-reference
// errors found after the walk.
type pos struct {
	n    *yaml.Node
	path string
}

// refs collects what the walk saw that later checks need.
type refsSeen struct {
	mappingSource     []pos // per mapping, its source key
	mappingConnection []pos
	mappingNode       []pos
}

func (p *parser) root(n *yaml.Node) {
	var seen refsSeen
	p.object(n, "", map[string]func(*yaml.Node, string){
		"version": func(v *yaml.Node, path string) { p.integer(v, path, 1, 1) },
		"server":  p.server,
		"engine":  p.engine,
		"store":   p.store,
		"scim":    p.scim,
		"console": p.console, // config/console.go
		"connections": func(v *yaml.Node, path string) {
			p.list(v, path, p.connection)
		},
		"sources": func(v *yaml.Node, path string) {
			p.list(v, path, p.source)
		},
		"mappings": func(v *yaml.Node, path string) {
			p.list(v, path, func(i int, v *yaml.Node, path string) { p.mapping(i, v, path, &seen) })
		},
	})
	p.crossCheck(&seen)
}

func (p *parser) scim(n *yaml.Node, path string) {
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"source": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				p.cfg.SCIM.Source = s
				p.scimSource = pos{v, path}
			}
		},
	}
	p.secretKeys(keys, "token", given, func(c *Config, v string) { c.SCIM.Token = v })
	p.envNames(keys, "token", func(name string) { p.cfg.SCIM.TokenEnv = name })
	if !p.object(n, path, keys) {
		return
	}
	if p.cfg.SCIM.Source == "" {
		p.errf(n, path, "source is required (the source SCIM Users are accepted into)")
	}
	if given["token"] == nil {
		p.errf(n, path, "token is required (token: ${SCIM_TOKEN} or token_env: SCIM_TOKEN)")
	}
}

func (p *parser) server(n *yaml.Node, path string) {
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"listen": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !strings.Contains(s, ":") {
					p.errf(v, path, "%q is not a listen address such as 127.0.0.1:8080 or :8080", s)
					return
				}
				p.cfg.Server.Listen = s
			}
		},
		"max_backlog": func(v *yaml.Node, path string) { p.cfg.Server.MaxBacklog, _ = p.integer(v, path, 1, 100_000_000) },
	}
	p.secretKeys(keys, "api_token", given, func(c *Config, v string) { c.Server.APIToken = v })
	p.envNames(keys, "api_token", func(name string) { p.cfg.Server.APITokenEnv = name })
	p.endpointAuthKeys(keys) // config/ops.go
	p.object(n, path, keys)
}

// envNames makes key and key_env also record the variable's name, for the
// settings that report it (Server.APITokenEnv and the like).
func (p *parser) envNames(keys map[string]func(*yaml.Node, string), key string, set func(string)) {
	for _, k := range []string{key, key + "_env"} {
		h := keys[k]
		keys[k] = func(v *yaml.Node, path string) {
			before := len(p.cfg.refs)
			h(v, path)
			if len(p.cfg.refs) > before {
				set(p.cfg.refs[len(p.cfg.refs)-1].name)
			}
		}
	}
}

func (p *parser) engine(n *yaml.Node, path string) {
	e := &p.cfg.Engine
	p.object(n, path, withKeys(map[string]func(*yaml.Node, string){
		"bulk_threshold": func(v *yaml.Node, path string) { e.BulkThreshold, _ = p.integer(v, path, 1, 100_000_000) },
		"api_share":      func(v *yaml.Node, path string) { e.APIShare, _ = p.share(v, path) },
		"lease":          func(v *yaml.Node, path string) { e.Lease, _ = p.duration(v, path) },
		"workers":        func(v *yaml.Node, path string) { e.Workers, _ = p.integer(v, path, 1, 256) },
		"leader_lease":   func(v *yaml.Node, path string) { e.LeaderLease, _ = p.leaderLease(v, path) }, // config/schedule.go
	}, p.budgetKeys(e))) // operations keys: config/ops.go
}

func (p *parser) store(n *yaml.Node, path string) {
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"sqlite": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				p.cfg.Store.SQLite = s
				given["sqlite"] = v
			}
		},
		"postgres_schema": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				p.cfg.Store.PostgresSchema = s
				given["postgres_schema"] = v
			}
		},
	}
	p.secretKeys(keys, "postgres_dsn", given, func(c *Config, v string) { c.Store.PostgresDSN = v })
	p.envNames(keys, "postgres_dsn", func(name string) { p.cfg.Store.PostgresDSNEnv = name })
	if p.object(n, path, keys) && given["sqlite"] != nil && given["postgres_dsn"] != nil {
		p.errf(given["postgres_dsn"], path, "set sqlite or postgres_dsn, not both")
	}
	if given["postgres_schema"] != nil && given["postgres_dsn"] == nil {
		p.errf(given["postgres_schema"], path, "postgres_schema needs postgres_dsn")
	}
}

func (p *parser) connection(i int, n *yaml.Node, path string) {
	p.cfg.Connections = append(p.cfg.Connections, forcesync.Connection{})
	p.connNodes = append(p.connNodes, n)
	conn := func(c *Config) *forcesync.Connection { return &c.Connections[i] }
	c := conn(p.cfg)
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !nameRe.MatchString(s) {
					p.errf(v, path, "%q is not a name (letters, digits, _ . -)", s)
				}
				c.Name = s
			}
		},
		"login_url": func(v *yaml.Node, path string) {
			s, ok := p.nonEmpty(v, path)
			if !ok {
				return
			}
			switch s {
			case "production":
				c.LoginURL = ProductionLoginURL
			case "sandbox":
				c.LoginURL = SandboxLoginURL
			default:
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
					p.errf(v, path, "%q is not production, sandbox or a URL such as https://example.my.salesforce.com", s)
					return
				}
				c.LoginURL = u.Scheme + "://" + u.Host
			}
		},
		"auth": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "web_server", "client_credentials", "jwt", "password", "access_token"); ok {
				c.Auth = forcesync.AuthMethod(s)
			}
		},
		"client_id": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				c.ClientID = s
				given["client_id"] = v
			}
		},
		"username": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				c.Username = s
				given["username"] = v
			}
		},
		"api_version": func(v *yaml.Node, path string) {
			if s, ok := p.str(v, path); ok {
				if !versionRe.MatchString(s) {
					p.errf(v, path, "%q is not an API version such as \"65.0\"", s)
					return
				}
				c.APIVersion = s
			}
		},
		"api_share": func(v *yaml.Node, path string) { c.APIShare, _ = p.share(v, path) },
		"saved": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !nameRe.MatchString(s) {
					p.errf(v, path, "%q is not a name (letters, digits, _ . -)", s)
				}
				c.Saved = s
				given["saved"] = v
			}
		},
	}
	p.secretKeys(keys, "client_secret", given, func(c *Config, v string) { conn(c).ClientSecret = v })
	p.secretKeys(keys, "refresh_token", given, func(c *Config, v string) { conn(c).RefreshToken = v })
	p.secretKeys(keys, "password", given, func(c *Config, v string) { conn(c).Password = v })
	p.secretKeys(keys, "private_key", given, func(c *Config, v string) { conn(c).PrivateKey = v })
	p.secretKeys(keys, "access_token", given, func(c *Config, v string) { conn(c).AccessToken = v })
	if !p.object(n, path, keys) {
		return
	}
	if c.Name == "" {
		p.errf(n, path, "name is required")
	}
	if c.Saved != "" {
		// The saved connection brings its own org, flow and secrets.
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "name", "saved", "api_share":
			default:
				p.errf(n.Content[i], path+"."+k, "not allowed with saved: the saved connection %q supplies it (forcesync login --name %s)", c.Saved, c.Saved)
			}
		}
		return
	}
	if c.LoginURL == "" {
		c.LoginURL = ProductionLoginURL
	}
	if c.Auth == "" {
		c.Auth = forcesync.AuthWebServer
	}
	// What each flow cannot work without (salesforce-api.md §2.2).
	needs := map[forcesync.AuthMethod][]string{
		forcesync.AuthWebServer:         {"client_id"},
		forcesync.AuthClientCredentials: {"client_id", "client_secret"},
		forcesync.AuthJWT:               {"client_id", "username", "private_key"},
		forcesync.AuthPassword:          {"client_id", "client_secret", "username", "password"},
		forcesync.AuthAccessToken:       {"access_token"},
	}
	for _, k := range needs[c.Auth] {
		if given[k] == nil {
			p.errf(n, path, "auth %s needs %s", c.Auth, k)
		}
	}
	if c.Auth == forcesync.AuthClientCredentials && (c.LoginURL == ProductionLoginURL || c.LoginURL == SandboxLoginURL) {
		p.errf(n, path, "auth client_credentials needs the org's My Domain URL as login_url, not %s", c.LoginURL)
	}
}

func (p *parser) source(i int, n *yaml.Node, path string) {
	p.cfg.Sources = append(p.cfg.Sources, Source{})
	p.srcNodes = append(p.srcNodes, n)
	s := &p.cfg.Sources[i]
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, path string) {
			if x, ok := p.nonEmpty(v, path); ok {
				if !nameRe.MatchString(x) {
					p.errf(v, path, "%q is not a name (letters, digits, _ . -)", x)
				}
				s.Name = x
			}
		},
		"key":         func(v *yaml.Node, path string) { s.Key, _ = p.nonEmpty(v, path) },
		"description": func(v *yaml.Node, path string) { s.Description, _ = p.str(v, path) },
	}
	p.secretKeys(keys, "api_token", given, func(c *Config, v string) { c.Sources[i].APIToken = v })
	p.envNames(keys, "api_token", func(name string) { s.APITokenEnv = name })
	if !p.object(n, path, keys) {
		return
	}
	if s.Name == "" {
		p.errf(n, path, "name is required")
	}
	if s.Key == "" {
		s.Key = DefaultSourceKey
	}
}

func (p *parser) mapping(i int, n *yaml.Node, path string, seen *refsSeen) {
	p.cfg.Mappings = append(p.cfg.Mappings, forcesync.Mapping{})
	m := &p.cfg.Mappings[i]
	var srcPos, connPos pos
	var matchSet, fieldsSet bool
	var reconcileEvery time.Duration
	var sched *Schedule
	keys := map[string]func(*yaml.Node, string){
		"schedule": func(v *yaml.Node, path string) { sched = p.schedule(v, path) }, // config/schedule.go
		// reconcile_every schedules forcesync reconcile (issue 12).
		"reconcile_every": func(v *yaml.Node, path string) {
			if d, ok := p.duration(v, path); ok {
				if d < time.Minute {
					p.errf(v, path, "reconcile_every %s is too often: each reconcile reads the mapping's records from Salesforce; give at least 1m", d)
					return
				}
				reconcileEvery = d
			}
		},
		"name": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !nameRe.MatchString(s) {
					p.errf(v, path, "%q is not a name (letters, digits, _ . -)", s)
				}
				m.Name = s
			}
		},
		"source": func(v *yaml.Node, path string) {
			m.Source, _ = p.nonEmpty(v, path)
			srcPos = pos{v, path}
		},
		"object": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if !apiNameRe.MatchString(s) {
					p.errf(v, path, "%q is not a Salesforce object API name such as Lead or Invoice__c", s)
				}
				m.Object = s
			}
		},
		"connection": func(v *yaml.Node, path string) {
			m.Connection, _ = p.nonEmpty(v, path)
			connPos = pos{v, path}
		},
		"direction": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "push", "pull", "both"); ok {
				m.Direction = forcesync.Direction(s)
			}
		},
		"match": func(v *yaml.Node, path string) {
			matchSet = true
			p.match(v, path, &m.Match)
		},
		"operations": func(v *yaml.Node, path string) { p.operations(v, path, &m.Operations) },
		"guard":      func(v *yaml.Node, path string) { p.guard(v, path, &m.Guard) },
		"user":       func(v *yaml.Node, path string) { p.user(v, path, &m.User) },
		"filter": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if err := mapping.CheckFilter(s); err != nil {
					p.errf(v, path, "%s", exprError(err))
				}
				m.Filter = s
			}
		},
		"mode": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "keep_updated", "once"); ok {
				m.Mode = forcesync.Mode(s)
			}
		},
		"batch_size": func(v *yaml.Node, path string) { m.BatchSize, _ = p.integer(v, path, 1, 200) },
		"pull":       func(v *yaml.Node, path string) { m.Pull = p.pull(i, v, path) },
		"fields": func(v *yaml.Node, path string) {
			fieldsSet = true
			targets := map[string]bool{}
			p.list(v, path, func(j int, v *yaml.Node, path string) {
				if r, ok := p.row(v, path); ok {
					if targets[strings.ToLower(r.Target)] {
						p.errf(v, path, "field %s has a row already", r.Target)
					}
					targets[strings.ToLower(r.Target)] = true
					m.Fields = append(m.Fields, r)
				}
			})
		},
	}
	seen.mappingSource = append(seen.mappingSource, pos{})
	seen.mappingConnection = append(seen.mappingConnection, pos{})
	seen.mappingNode = append(seen.mappingNode, pos{n, path})
	if !p.object(n, path, keys) {
		return
	}
	seen.mappingSource[i], seen.mappingConnection[i] = srcPos, connPos
	if reconcileEvery > 0 && m.Name != "" {
		if p.cfg.ReconcileEvery == nil {
			p.cfg.ReconcileEvery = map[string]time.Duration{}
		}
		p.cfg.ReconcileEvery[m.Name] = reconcileEvery
	}
	for _, k := range []struct {
		v    string
		name string
	}{{m.Name, "name"}, {m.Source, "source"}, {m.Object, "object"}} {
		if k.v == "" {
			p.errf(n, path, "%s is required", k.name)
		}
	}
	if !matchSet {
		p.errf(n, path, "match is required: external_id: <Field>, fields: [Email] or binding")
	}
	if !fieldsSet {
		p.errf(n, path, "fields is required: at least one field row")
	}
	if m.Direction == "" {
		m.Direction = forcesync.Push
	}
	if m.Mode == "" {
		m.Mode = forcesync.KeepUpdated
	}
	p.setSchedule(n, path, m, sched)
	if m.Operations.Delete == "" {
		m.Operations.Delete = forcesync.DeleteIgnore
	}
	if len(p.errs) == 0 {
		// The domain's own checks, as a backstop to the ones above.
		if err := m.Validate(); err != nil {
			p.errf(n, path, "%s", err)
		}
	}
}

// match reads the match rule in its short forms (binding; external_id:
// Field; fields: [Email]) or the long one (kind: ..., field/fields: ...).
func (p *parser) match(n *yaml.Node, path string, r *forcesync.MatchRule) {
	if n.Kind == yaml.ScalarNode {
		if s, ok := p.oneOf(n, path, "binding"); ok {
			r.Kind = forcesync.MatchKind(s)
		}
		return
	}
	var kindNode *yaml.Node
	forms := 0
	ok := p.object(n, path, map[string]func(*yaml.Node, string){
		"kind": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "external_id", "fields", "binding"); ok {
				kindNode = v
				r.Kind = forcesync.MatchKind(s)
			}
		},
		"external_id": func(v *yaml.Node, path string) {
			forms++
			if s, ok := p.nonEmpty(v, path); ok {
				p.apiName(v, path, s)
				r.Field = s
				if r.Kind == "" {
					r.Kind = forcesync.MatchExternalID
				}
			}
		},
		"field": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				p.apiName(v, path, s)
				r.Field = s
			}
		},
		"fields": func(v *yaml.Node, path string) {
			forms++
			if l, ok := p.strs(v, path); ok {
				for _, s := range l {
					p.apiName(v, path, s)
				}
				r.Fields = l
				if r.Kind == "" {
					r.Kind = forcesync.MatchFields
				}
			}
		},
		"binding": func(v *yaml.Node, path string) {
			forms++
			if b, ok := p.boolean(v, path); ok && b && r.Kind == "" {
				r.Kind = forcesync.MatchBinding
			}
		},
	})
	if !ok {
		return
	}
	switch {
	case forms > 1:
		p.errf(n, path, "set one of external_id, fields, binding")
	case r.Kind == "" && kindNode == nil:
		p.errf(n, path, "set one of external_id: <Field>, fields: [Email], binding: true")
	case r.Kind == forcesync.MatchExternalID && r.Field == "":
		p.errf(n, path, "kind external_id needs field: <External ID field>")
	case r.Kind == forcesync.MatchFields && len(r.Fields) == 0:
		p.errf(n, path, "kind fields needs fields: [Email]")
	}
}

func (p *parser) apiName(n *yaml.Node, path, s string) {
	if !apiNameRe.MatchString(s) {
		p.errf(n, path, "%q is not a Salesforce field API name such as Email or Ext_Id__c", s)
	}
}

// row reads one field row.
func (p *parser) row(n *yaml.Node, path string) (forcesync.FieldRow, bool) {
	var r forcesync.FieldRow
	var kinds []string
	before := len(p.errs)
	ok := p.object(n, path, map[string]func(*yaml.Node, string){
		"target": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				p.apiName(v, path, s)
				r.Target = s
			}
		},
		"source": func(v *yaml.Node, path string) {
			kinds = append(kinds, "source")
			r.SourceField, _ = p.nonEmpty(v, path)
		},
		"value": func(v *yaml.Node, path string) {
			kinds = append(kinds, "value")
			r.Constant, _ = p.value(v, path)
			r.HasConstant = true
		},
		"expr": func(v *yaml.Node, path string) {
			kinds = append(kinds, "expr")
			if s, ok := p.nonEmpty(v, path); ok {
				if err := mapping.CheckExpr(s); err != nil {
					p.errf(v, path, "%s", exprError(err))
				}
				r.Expr = s
			}
		},
		"template": func(v *yaml.Node, path string) {
			kinds = append(kinds, "template")
			if s, ok := p.str(v, path); ok {
				src, err := mapping.Template(s)
				if err != nil {
					p.errf(v, path, "%s", exprError(err))
					return
				}
				r.Expr = src
			}
		},
		"first_of": func(v *yaml.Node, path string) {
			kinds = append(kinds, "first_of")
			r.FirstOf, _ = p.strs(v, path)
		},
		"map": func(v *yaml.Node, path string) { r.ValueMap = p.valueMap(v, path) },
		"default": func(v *yaml.Node, path string) {
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				p.errf(v, path, "expected a single value, got %s", kindName(v))
				return
			}
			r.Default, _ = p.value(v, path)
		},
		"on": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "create", "always"); ok {
				r.On = forcesync.When(s)
			}
		},
		"clear_when_empty": func(v *yaml.Node, path string) { r.ClearWhenEmpty, _ = p.boolean(v, path) },
		"direction": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "push", "pull", "both"); ok {
				r.Direction = forcesync.Direction(s)
			}
		},
		"conflict": func(v *yaml.Node, path string) {
			if s, ok := p.oneOf(v, path, "app_wins", "salesforce_wins", "newest_wins"); ok {
				r.Conflict = forcesync.ConflictPolicy(s)
			}
		},
	})
	if !ok {
		return r, false
	}
	if r.Target == "" {
		p.errf(n, path, "target is required")
	}
	if len(kinds) != 1 {
		p.errf(n, path, "set exactly one of source, value, expr, template, first_of (got %d)", len(kinds))
	}
	if r.On == "" {
		r.On = forcesync.Always
	}
	return r, len(p.errs) == before
}

// valueMap reads a row's map: source value -> Salesforce value, both text
// (numbers and booleans as written: 1: Active, true: Verified).
func (p *parser) valueMap(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	if n.Kind != yaml.MappingNode {
		p.errf(n, path, "expected a mapping of source value: Salesforce value, got %s", kindName(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			p.errf(k, path, "keys must be single values")
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.errf(v, kp, "expected a single value, got %s", kindName(v))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errf(k, kp, "repeated key")
			continue
		}
		out[k.Value] = v.Value
	}
	return out
}

// exprError flattens an expr-lang error (which draws the source with a
// caret over several lines) onto one line.
func exprError(err error) string {
	return "invalid expression: " + strings.Join(strings.Fields(err.Error()), " ")
}

// crossCheck verifies names: unique, and every reference resolves.
func (p *parser) crossCheck(seen *refsSeen) {
	c := p.cfg
	unique := func(what string, names []string, at func(i int) pos) {
		first := map[string]bool{}
		for i, n := range names {
			if n == "" {
				continue
			}
			if first[n] {
				ps := at(i)
				p.errf(ps.n, ps.path, "%s name %q is used twice", what, n)
			}
			first[n] = true
		}
	}
	var names []string
	for _, x := range c.Connections {
		names = append(names, x.Name)
	}
	unique("connection", names, func(i int) pos { return pos{p.connNodes[i], fmt.Sprintf("connections[%d].name", i)} })
	names = names[:0]
	for _, x := range c.Sources {
		names = append(names, x.Name)
	}
	unique("source", names, func(i int) pos { return pos{p.srcNodes[i], fmt.Sprintf("sources[%d].name", i)} })
	names = names[:0]
	for _, x := range c.Mappings {
		names = append(names, x.Name)
	}
	unique("mapping", names, func(i int) pos { return seen.mappingNode[i] })

	if c.SCIM.Source != "" && c.Source(c.SCIM.Source) == nil && p.scimSource.n != nil {
		p.errf(p.scimSource.n, p.scimSource.path, "source %q is not declared under sources", c.SCIM.Source)
	}
	for i := range c.Mappings {
		m := &c.Mappings[i]
		if i >= len(seen.mappingNode) {
			break
		}
		if m.Source != "" && c.Source(m.Source) == nil {
			ps := seen.mappingSource[i]
			p.errf(ps.n, ps.path, "source %q is not declared under sources", m.Source)
		}
		switch {
		case m.Connection != "" && c.Connection(m.Connection) == nil:
			ps := seen.mappingConnection[i]
			p.errf(ps.n, ps.path, "connection %q is not declared under connections", m.Connection)
		case m.Connection == "" && len(c.Connections) == 1:
			m.Connection = c.Connections[0].Name
		case m.Connection == "":
			ps := seen.mappingNode[i]
			p.errf(ps.n, ps.path, "connection is required when there is not exactly one connection (there are %d)", len(c.Connections))
		}
	}
}

// defaults fills what the file left out.
func (p *parser) defaults() {
	c := p.cfg
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if c.Engine.BulkThreshold == 0 {
		c.Engine.BulkThreshold = DefaultBulkThreshold
	}
	if c.Engine.APIShare == 0 {
		c.Engine.APIShare = DefaultAPIShare
	}
	if c.Engine.Lease == 0 {
		c.Engine.Lease = DefaultLease
	}
	if c.Engine.Workers == 0 {
		c.Engine.Workers = DefaultWorkers
	}
	if c.Engine.LeaderLease == 0 {
		c.Engine.LeaderLease = DefaultLeaderLease
	}
	p.opsDefaults() // config/ops.go
	if c.Store.SQLite == "" && c.Store.PostgresDSNEnv == "" {
		c.Store.SQLite = DefaultSQLitePath
	}
	for i := range c.Connections {
		if c.Connections[i].APIShare == 0 {
			c.Connections[i].APIShare = c.Engine.APIShare
		}
	}
}
