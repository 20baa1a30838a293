package config

import (
	"fmt"
	"os"
	"strings"
	"time"

	forcesync "github.com/forcesync/forcesync"
)

// Defaults applied to keys the file leaves out.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultBulkThreshold = 2000
	DefaultAPIShare      = 0.5
	DefaultLease         = 15 * time.Second
	DefaultWorkers       = 4
	DefaultSQLitePath    = "forcesync.db"
	DefaultSourceKey     = "id"
	ProductionLoginURL   = "https://login.salesforce.com"
	SandboxLoginURL      = "https://test.salesforce.com"
)

// Config is a parsed configuration file. Secrets are empty until Resolve.
type Config struct {
	// File is the name the config was parsed under, for messages.
	File        string
	Server      Server
	Engine      Engine
	Store       Store
	SCIM        SCIM
	Console     Console
	Connections []forcesync.Connection
	Sources     []Source
	Mappings    []forcesync.Mapping
	// ReconcileEvery is, per mapping name, how often serve reconciles it
	// with Salesforce (mappings[].reconcile_every; report only, no heal).
	// A mapping not listed is reconciled only on demand.
	ReconcileEvery map[string]time.Duration
	// Schedules are, per mapping name, the cron schedules of its replay
	// and full resync (mappings[].schedule; config/schedule.go).
	Schedules map[string]Schedule

	refs []envRef // environment references, filled by Resolve
}

// Server is the HTTP server's settings.
type Server struct {
	// Listen is the address of the REST API and admin pages; default
	// 127.0.0.1:8080.
	Listen string
	// APIToken is the bearer token the REST API requires (from the
	// environment, see APITokenEnv); empty until Resolve.
	APIToken string
	// APITokenEnv names the environment variable holding APIToken.
	APITokenEnv string
	// MetricsAuth says whether GET /metrics needs the API token: "token"
	// or "open"; default "token" when an API token is set, else "open".
	MetricsAuth string
	// HealthzAuth is the same for GET /healthz; default "open".
	HealthzAuth string
	// MaxBacklog is how many changes may wait for one mapping before REST
	// ingest of its source answers 429 with Retry-After; 0 means the
	// default, 100,000 changes.
	MaxBacklog int
}

// SCIM is the SCIM 2.0 door's settings (served under /scim/v2/ by serve).
type SCIM struct {
	// Source is the source SCIM Users are accepted into; empty turns the
	// door off.
	Source string
	// Token is the bearer token the identity provider sends (from the
	// environment, see TokenEnv); empty until Resolve.
	Token    string
	TokenEnv string
}

// Engine is the pushers' settings.
type Engine struct {
	// BulkThreshold is how many ready records of one External ID mapping
	// make a batch go through Bulk API 2.0 instead of sObject Collections;
	// default 2000 records.
	BulkThreshold int
	// APIShare is the default share of each org's daily API allowance
	// forcesync may spend (0 < share <= 1); default 0.5.
	APIShare float64
	// Lease is how long claimed work stays leased to one replica; default
	// 15s. A batch in flight renews its lease every third of it.
	Lease time.Duration
	// Workers is how many batches are pushed at once; default 4.
	Workers int
	// APIReserve is the part of each org's daily API allowance left to the
	// org's other users (0 <= r < 1); default 0.1. See config/ops.go.
	APIReserve float64
	// RealtimeLane is the part of forcesync's share that only realtime
	// changes may spend (0 <= l < 1); default 0.2.
	RealtimeLane float64
	// LimitsRecheck is the least time between two reads of the org's
	// /limits while the budget governor is paused; default 1m.
	LimitsRecheck time.Duration
	// MaxBackoff caps the wait before retrying a transient error; default 10m.
	MaxBackoff time.Duration
	// LeaderLease is the term of the leases that make one replica poll a
	// pulled mapping, fire a schedule or run a scheduled reconcile; a
	// replica that dies is replaced within about 1.3 terms; default 6s.
	LeaderLease time.Duration

	reserveSet, laneSet bool // given in the file (0 is a valid value)
}

// Store selects the database: SQLite (default) or PostgreSQL.
type Store struct {
	// SQLite is the database file; default forcesync.db when no PostgreSQL
	// DSN is configured.
	SQLite string
	// PostgresDSN is the PostgreSQL connection string, from the environment
	// (see PostgresDSNEnv); empty until Resolve.
	PostgresDSN string
	// PostgresDSNEnv names the environment variable holding PostgresDSN.
	PostgresDSNEnv string
	// PostgresSchema, when set, is the schema holding forcesync's tables
	// (created if missing); otherwise the DSN's search_path decides.
	PostgresSchema string
}

// Source is one kind of application record.
type Source struct {
	// Name identifies the source, e.g. wp_user.
	Name string
	// Key is the record field holding the stable key; default "id".
	Key string
	// Description is free text for people.
	Description string
	// APIToken is the token the application presents to push changes of
	// this source (from the environment, see APITokenEnv); empty means the
	// server's token. Empty until Resolve.
	APIToken string
	// APITokenEnv names the environment variable holding APIToken.
	APITokenEnv string
}

// envRef is one environment reference: where it was written, which
// variable, and where its value goes.
type envRef struct {
	pos      string // "file:line: path"
	name     string
	optional bool
	set      func(*Config, string)
}

// Load reads and parses the config file at path. Secrets stay unresolved;
// call Resolve.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// Resolve fills every secret and environment-referenced value through
// getenv (os.Getenv in cmd/, a map in tests). A referenced variable that
// is unset or empty is an error naming where it was referenced.
func (c *Config) Resolve(getenv func(string) string) error {
	var errs ErrorList
	for _, r := range c.refs {
		v := getenv(r.name)
		if v == "" && !r.optional {
			errs = append(errs, &Error{Pos: r.pos, Msg: fmt.Sprintf("environment variable %s is not set", r.name)})
			continue
		}
		r.set(c, v)
	}
	if len(errs) == 0 {
		errs = c.checkTokens()
	}
	return errs.err()
}

// Env lists the environment variables the config references, so an
// operator can see what to provide.
func (c *Config) Env() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.refs {
		if !seen[r.name] {
			seen[r.name] = true
			out = append(out, r.name)
		}
	}
	return out
}

// Mapping returns the mapping named name, or nil.
func (c *Config) Mapping(name string) *forcesync.Mapping {
	for i := range c.Mappings {
		if c.Mappings[i].Name == name {
			return &c.Mappings[i]
		}
	}
	return nil
}

// Connection returns the connection named name, or nil.
func (c *Config) Connection(name string) *forcesync.Connection {
	for i := range c.Connections {
		if c.Connections[i].Name == name {
			return &c.Connections[i]
		}
	}
	return nil
}

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *Source {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i]
		}
	}
	return nil
}

// Error is one problem in a config file, at a line, under a key path.
type Error struct {
	Pos string // "file:line: path"
	Msg string
}

func (e *Error) Error() string { return e.Pos + ": " + e.Msg }

// Unwrap lets forcesync.ErrorCode classify config errors as EInvalid.
func (e *Error) Unwrap() error {
	return &forcesync.Error{Code: forcesync.EInvalid, Message: e.Error()}
}

// ErrorList is every problem found in one file, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes each error to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l ErrorList) err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	return l
}
