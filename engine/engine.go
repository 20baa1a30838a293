package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
)

// Config tunes an Engine. The zero value of every field is its default.
type Config struct {
	// Owner names this process in leases; empty means a random name.
	Owner string
	// Lease is how long a claimed batch is ours before others may take it
	// (a crashed process's work comes back after it). Zero means 2 minutes.
	Lease time.Duration
	// BulkThreshold is how many ready records of one External ID mapping
	// make a batch go through Bulk API 2.0 instead of Collections. Zero
	// means 2,000; a negative value turns Bulk off.
	BulkThreshold int
	// BulkBatch is the most records one claim, and so one Bulk job, takes
	// (at least BulkThreshold; a job is split further only at Salesforce's
	// 150 MB limit). Zero means 100,000: a backlog goes out in few jobs, at
	// the cost of holding one job's records in memory.
	BulkBatch int
	// APIShare is the share of the org's daily API allowance the engine may
	// spend (0 < share <= 1). Zero means 0.5.
	APIShare float64
	// Idle is how long a worker waits for new work when there is none,
	// unless woken by Notify. Zero means one second.
	Idle time.Duration
	// MaxBackoff caps the delay between retries of a transient error. Zero
	// means 10 minutes.
	MaxBackoff time.Duration
	// Workers is how many batches are pushed at once. Zero means 2.
	Workers int
	// Passwords carries Users' passwords from the doors (passwords.go);
	// nil: User mappings set no passwords.
	Passwords *Passwords
	// SchemaEvery is how often Run asks whether the mapped objects' schema
	// changed (If-Modified-Since: an unchanged schema costs one call and
	// no body). Zero means 15 minutes; negative turns the periodic check
	// off (errors that suggest a change still trigger one).
	SchemaEvery time.Duration
	Now         func() time.Time
	Logger      *slog.Logger

	// Connection names the org in the call ledger, logs and metrics.
	// Empty: the first mapping's connection, else "default".
	Connection string
	// Governor guards the API budget. Nil: New makes one from the store's
	// ledger, APIShare, APIReserve, RealtimeLane and LimitsRecheck.
	Governor *Governor
	// APIReserve, RealtimeLane and LimitsRecheck are GovernorConfig's
	// Reserve, RealtimeLane and Recheck (zero values are its defaults).
	APIReserve    float64
	RealtimeLane  float64
	LimitsRecheck time.Duration
	// Metrics, when set, receives the engine's metrics (metrics.go).
	Metrics *Metrics
	// Health, when set, is told of login failures (health.go).
	Health *Health
	// Configured names every mapping of the config, of every connection,
	// so a mapping that moved to another connection is not taken for one
	// removed (removal.go). Nil: the mappings given to New.
	Configured []string
}

// Engine pushes accepted changes to Salesforce.
//
// Delivery contract: at least once. A record is marked synced only after
// Salesforce accepted it, in the same store transaction that records its
// binding. An upsert by External ID makes a resend harmless; a match by
// fields queries Salesforce before every create, so a create that reached
// Salesforce before a crash is found and updated instead of duplicated.
type Engine struct {
	cfg    Config
	store  forcesync.Store
	api    API
	pipes  []*Pipe
	wakeMu sync.Mutex
	wake   chan struct{} // closed by Notify; nil until a worker waits
	gov    *Governor
	// usageSeen is the client's last usage handed to an engine-made
	// governor ([used, max]).
	usageMu   sync.Mutex
	usageSeen [2]int
	gate      backfillGate  // backfill.go
	intents   atomic.Uint64 // numbers the Bulk job intents (bulkjobs.go)
	rnd       *rand.Rand
	rndMu     sync.Mutex
	// deferredUntil is the latest retry time (Unix ms) of a record put off
	// for a twin during a Drain; zero when none.
	deferredUntil atomic.Int64
	onSettled     func([]Settled) // OnSettled (settled.go)
	keysInFlight  valuesInFlight  // External ID values being pushed (collision.go)
	// schema is the schema drift guard's state (schema.go).
	schema schemaState
	// removal: mappings removed from the config and scope sweeps (removal.go).
	removal removalState
}

// Pipe is one compiled mapping the engine serves.
type Pipe struct {
	Mapping  forcesync.Mapping
	Compiled *mapping.Compiled
	// Describe is the describe Compiled was compiled against.
	Describe *salesforce.SObjectDescribe
	// Removed marks a mapping that left the config and whose bound records
	// are being deprovisioned (removal.go).
	Removed bool
}

// New builds an engine. Mappings are compiled against their objects'
// describes; a mapping that cannot compile is an error naming it.
func New(ctx context.Context, store forcesync.Store, api API, mappings []forcesync.Mapping, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if cfg.Connection == "" {
		cfg.Connection = "default"
		if len(mappings) > 0 && mappings[0].Connection != "" {
			cfg.Connection = mappings[0].Connection
		}
	}
	e := &Engine{cfg: cfg, store: store, api: api, gov: cfg.Governor,
		rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
	if e.gov == nil {
		gc := GovernorConfig{Connection: cfg.Connection, Ledger: store, Share: cfg.APIShare, Reserve: cfg.APIReserve,
			RealtimeLane: cfg.RealtimeLane, Recheck: cfg.LimitsRecheck, Now: cfg.Now, Logger: cfg.Logger}
		if lr, ok := api.(LimitsReader); ok {
			gc.Limits = lr.DailyAPIUsage
		}
		g, err := NewGovernor(ctx, gc)
		if err != nil {
			return nil, err
		}
		e.gov = g
	}
	pipes, err := e.compileResuming(ctx, mappings) // schema.go: paused mappings start paused
	if err != nil {
		return nil, err
	}
	for _, p := range pipes {
		m, c := p.Mapping, p.Compiled
		changed, err := store.MappingVersion(ctx, m.Name, c.Version())
		if err != nil {
			return nil, err
		}
		if changed {
			// Records held under the old mapping get another chance.
			n, err := store.Requeue(ctx, m.Name, nil)
			if err != nil {
				return nil, err
			}
			cfg.Logger.Info("mapping changed; held records requeued", "mapping", m.Name, "records", n)
		}
		e.pipes = append(e.pipes, p)
	}
	// Mappings removed from the config, scopes narrowed (removal.go).
	if err := e.remember(ctx); err != nil {
		return nil, err
	}
	// The describes' answers told the org's usage.
	e.observeUsage()
	// Bulk jobs left running by a killed process (bulkjobs.go).
	e.recoverBulkJobs(ctx, cfg.Lease)
	return e, nil
}

// withDefaults returns cfg with the default of every zero field applied.
func (cfg Config) withDefaults() Config {
	if cfg.Owner == "" {
		cfg.Owner = fmt.Sprintf("forcesync-%08x", rand.Uint32())
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.BulkThreshold == 0 {
		cfg.BulkThreshold = 2000
	}
	if cfg.BulkBatch <= 0 {
		cfg.BulkBatch = 100_000
	}
	if cfg.APIShare <= 0 || cfg.APIShare > 1 {
		cfg.APIShare = 0.5
	}
	if cfg.Idle <= 0 {
		cfg.Idle = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.SchemaEvery == 0 {
		cfg.SchemaEvery = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Compile compiles mappings against their objects' describes, writing
// nothing; a mapping that cannot compile is an error naming it.
func Compile(ctx context.Context, api API, mappings []forcesync.Mapping) ([]*Pipe, error) {
	return compileEach(ctx, api, mappings, nil)
}

// compileEach compiles mappings; a mapping that does not compile against
// its describe is handed to failed (nil: the error), which may return a
// pipe all the same.
func compileEach(ctx context.Context, api API, mappings []forcesync.Mapping,
	failed func(m forcesync.Mapping, d *salesforce.SObjectDescribe, err error) (*Pipe, error)) ([]*Pipe, error) {
	var pipes []*Pipe
	names := &nameIDs{api: api} // users.go: ProfileId, UserRoleId by name
	for _, m := range mappings {
		m, err := names.resolve(ctx, m)
		if err != nil {
			return nil, err
		}
		d, err := api.Describe(ctx, m.Object)
		if err != nil {
			return nil, fmt.Errorf("mapping %s: describe %s: %w", m.Name, m.Object, err)
		}
		c, err := mapping.Compile(m, d)
		if err != nil {
			if failed == nil {
				return nil, err
			}
			p, err := failed(m, d, err)
			if err != nil {
				return nil, err
			}
			pipes = append(pipes, p)
			continue
		}
		pipes = append(pipes, &Pipe{Mapping: m, Compiled: c, Describe: d})
	}
	return pipes, nil
}

// Pipes returns the compiled mappings.
func (e *Engine) Pipes() []*Pipe { return e.livePipes() }

// MappingsFor returns the names of the mappings fed by a source.
func (e *Engine) MappingsFor(source string) []string {
	var out []string
	for _, p := range e.livePipes() {
		if p.Mapping.Source == source && p.Mapping.Pushes() {
			// A pull-only mapping never pushes: no work is queued for it.
			out = append(out, p.Mapping.Name)
		}
	}
	return out
}

// Notify wakes idle workers: new work was accepted. Every worker waiting
// at the time wakes once; a worker that is busy looks for work anyway when
// it finishes its batch.
func (e *Engine) Notify() {
	e.wakeMu.Lock()
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
	e.wakeMu.Unlock()
}

// woken returns a channel closed by the next Notify. A worker takes it
// before it looks for work, so a Notify during the look is not lost.
func (e *Engine) woken() <-chan struct{} {
	e.wakeMu.Lock()
	defer e.wakeMu.Unlock()
	if e.wake == nil {
		e.wake = make(chan struct{})
	}
	return e.wake
}

// Paused says why the budget governor stopped all pushing, or "" (a
// pause of backfills only leaves realtime work running: see Governor).
func (e *Engine) Paused() string {
	st := e.gov.State()
	if slices.Contains(st.Paused, forcesync.LaneRealtime) {
		return st.Reason
	}
	return ""
}

// Governor returns the engine's budget governor.
func (e *Engine) Governor() *Governor { return e.gov }

// Connection names the engine's org.
func (e *Engine) Connection() string { return e.cfg.Connection }

// Store returns the engine's store.
func (e *Engine) Store() forcesync.Store { return e.store }

// Run pushes work until ctx ends. Each worker serves every mapping in turn.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if e.cfg.SchemaEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.watchSchema(ctx)
		}()
	}
	wg.Add(1)
	go func() { // jobs of processes that stopped lately, once their leases ran out
		defer wg.Done()
		t := time.NewTicker(e.cfg.Lease)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.recoverBulkJobs(ctx, e.cfg.Lease)
			}
		}
	}()
	for w := 0; w < e.cfg.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			owner := fmt.Sprintf("%s/%d", e.cfg.Owner, w)
			for {
				woken := e.woken()
				n, err := e.step(ctx, owner, 0, true)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					e.cfg.Logger.Error("push step failed", "err", err)
				}
				if n > 0 && err == nil {
					continue
				}
				t := time.NewTimer(e.cfg.Idle)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-woken:
				case <-t.C:
				}
				t.Stop()
			}
		}(w)
	}
	wg.Wait()
	return nil
}

// Drain pushes until no work is due, with the configured number of
// workers, for the CLI and tests. It returns how many records it handled.
// Records a worker put off because another worker was matching a twin are
// waited for, so a drain leaves nothing it deferred itself.
func (e *Engine) Drain(ctx context.Context) (int, error) {
	var total atomic.Int64
	for {
		e.deferredUntil.Store(0)
		var wg sync.WaitGroup
		errs := make([]error, e.cfg.Workers)
		for w := range e.cfg.Workers {
			owner := e.cfg.Owner
			if e.cfg.Workers > 1 {
				owner = fmt.Sprintf("%s/%d", e.cfg.Owner, w)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := e.step(ctx, owner, 0, false)
					total.Add(int64(n))
					if err != nil {
						errs[w] = err
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return int(total.Load()), err
		}
		until := e.deferredUntil.Load()
		if until == 0 {
			return int(total.Load()), nil
		}
		// Wait until they are due (by the engine's clock, at most matchWait).
		t := time.NewTimer(min(max(time.UnixMilli(until).Sub(e.cfg.Now()), 0), matchWait))
		select {
		case <-ctx.Done():
			t.Stop()
			return int(total.Load()), ctx.Err()
		case <-t.C:
		}
	}
}

// step claims and pushes one batch of each mapping; it returns how many
// records it handled. hold lets a growing backfill wait (backfill.go).
func (e *Engine) step(ctx context.Context, owner string, minBacklog int, hold bool) (int, error) {
	e.observeUsage()
	total := 0
	var errs []error
	for _, p := range slices.Concat(e.livePipes(), e.removedPipes()) {
		if !p.Mapping.Pushes() {
			continue // direction pull: package pull serves it
		}
		if e.schemaPaused(p.Mapping.Name) != "" {
			continue // schema.go: the mapping no longer fits the object
		}
		if minBacklog > 0 {
			if n, err := e.store.Backlog(ctx, p.Mapping.Name); err != nil || n < minBacklog {
				if err != nil {
					errs = append(errs, fmt.Errorf("mapping %s: %w", p.Mapping.Name, err))
				}
				continue
			}
		}
		b, ok := e.budgetFor(ctx, p)
		if !ok {
			continue // paused: the governor logged why
		}
		push := e.pushBatch
		if hold {
			push = e.pushHolding // backfill.go
		}
		n, err := push(ctx, owner, p, b)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("mapping %s: %w", p.Mapping.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

// Health returns the connection's health tracker, nil when none was given.
func (e *Engine) Health() *Health { return e.cfg.Health }
