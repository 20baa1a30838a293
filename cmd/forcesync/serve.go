package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/pull"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/schedule"
	"github.com/forcesync/forcesync/scim"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
)

func init() { register(newServeCmd) }

type serveFlags struct {
	config string
	listen string
}

func newServeCmd(env *Env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the engine and its REST API",
		Long: `Runs the push engine for every mapping of the config and serves the REST API:
POST /api/v1/sources/{source}/records to send changes, GET /healthz, GET /metrics.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), env, f, nil)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "forcesync.yaml", "config file")
	cmd.Flags().StringVar(&f.listen, "listen", "", "address of the REST API (default: the config's server.listen)")
	return cmd
}

// app is a running forcesync: store, engines and, once openDoors has
// built them for serve, the HTTP API, SCIM and the console.
type app struct {
	cfg *config.Config
	// store is what the doors write through (passwords stripped); base is
	// the store itself, which a reload builds the next app over.
	store   forcesync.Store
	base    forcesync.Store
	engines []*engine.Engine
	// passwords hold Users' passwords between the doors and the engines.
	passwords *engine.Passwords
	// server is the REST API with the SCIM door and the console; nil
	// until openDoors, which only the commands that serve HTTP call.
	server   *httpserver.Server
	registry *prometheus.Registry
	// clients are the Salesforce clients by connection name; paces keep
	// what they learn of their orgs' Bulk jobs (closeStore waits for them).
	clients map[string]*salesforce.Client
	paces   []*paceKeeper
	// pull runs the pulled mappings (pull.go); nil when none pulls.
	pull *pull.Runner
	// leader runs duties once across replicas; sched fires the mappings'
	// schedules (schedule.go); nil when the store has no leader leases or
	// nothing is scheduled.
	leader *schedule.Leader
	sched  *schedule.Scheduler
}

// closeStore closes the store once the saves of the clients' Bulk paces
// are done.
func (a *app) closeStore() error {
	for _, k := range a.paces {
		k.wait()
	}
	return a.store.Close()
}

// openApp loads the config, opens the store, connects every connection in
// use and compiles its mappings. tune, when given, adjusts each engine's
// config (a file push takes larger Bulk jobs). The HTTP doors are not
// built: a command that serves them calls openDoors next.
func openApp(ctx context.Context, env *Env, path string, logger *slog.Logger, tune ...func(*engine.Config)) (*app, error) {
	cfg, err := loadConfig(env, path)
	if err != nil {
		return nil, err
	}
	st, err := openConfigStore(ctx, cfg, path)
	if err != nil {
		return nil, err
	}
	a, err := buildApp(ctx, env, cfg, st, logger, tune...)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func loadConfig(env *Env, path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := cfg.Resolve(env.Getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

// buildApp connects, compiles and wires cfg's engines, pullers and
// schedules over an open store (which it does not close on error); a
// reload builds a new app over the same store, so queued work carries
// over. The HTTP doors are openDoors' work.
func buildApp(ctx context.Context, env *Env, cfg *config.Config, st forcesync.Store, logger *slog.Logger,
	tune ...func(*engine.Config)) (*app, error) {
	reg, metrics := newRegistry() // ops.go
	a := &app{cfg: cfg, base: st, registry: reg, clients: map[string]*salesforce.Client{}}
	// Users' passwords go from the doors to the engines in memory only.
	a.passwords = engine.NewPasswords(cfg.Mappings)
	a.store = a.passwords.Intake(st) // every door (ingest, SCIM, push, console) accepts through it
	var conns []pullConn
	byConn := map[string][]forcesync.Mapping{}
	for _, m := range cfg.Mappings {
		name := m.Connection
		if name == "" && len(cfg.Connections) > 0 {
			name = cfg.Connections[0].Name
		}
		byConn[name] = append(byConn[name], m)
	}
	for name, ms := range byConn {
		conn := cfg.Connection(name)
		if conn == nil {
			return nil, fmt.Errorf("config: mappings use connection %q, which is not defined", name)
		}
		api := &engine.SalesforceAPI{}
		share := cfg.Engine.APIShare
		if conn.APIShare > 0 {
			share = conn.APIShare
		}
		obs := &observers{name: name, api: api, metrics: metrics, health: engine.NewHealth(name, logger, nil)}
		gov, err := engine.NewGovernor(ctx, engine.GovernorConfig{Connection: name, Ledger: st, Share: share,
			Reserve: fraction(cfg.Engine.APIReserve), RealtimeLane: fraction(cfg.Engine.RealtimeLane),
			Recheck: cfg.Engine.LimitsRecheck, Limits: api.DailyAPIUsage, Logger: logger})
		if err != nil {
			return nil, err
		}
		obs.gov = gov
		client, paces, err := connectPinned(ctx, env, st, *conn, obs.hooks())
		if err != nil {
			return nil, fmt.Errorf("connection %s: %w", name, err)
		}
		a.paces = append(a.paces, paces)
		api.Client = client
		a.clients[name] = client
		ecfg := engine.Config{
			Lease: cfg.Engine.Lease, BulkThreshold: cfg.Engine.BulkThreshold, APIShare: share,
			Workers: cfg.Engine.Workers, Logger: logger.With("connection", name), MaxBackoff: cfg.Engine.MaxBackoff,
			Connection: name, Governor: gov, Metrics: metrics, Health: obs.health, Passwords: a.passwords,
			Configured: cfg.MappingNames(), // removal.go: a mapping the config lost is noticed
		}
		for _, t := range tune {
			t(&ecfg)
		}
		eng, err := engine.New(ctx, st, api, ms, ecfg)
		if err != nil {
			return nil, err
		}
		metrics.Watch(eng)
		a.engines = append(a.engines, eng)
		conns = append(conns, pullConn{client, eng})
	}
	if err := a.openPull(ctx, st, conns, logger); err != nil {
		return nil, err // the store is the caller's: a reload's is the running app's
	}
	if err := a.openSchedules(st, logger); err != nil { // schedule.go
		return nil, err
	}
	return a, nil
}

// openDoors builds what serve answers HTTP with: the REST API, the SCIM
// door and the admin console, into a.server. Only the commands that serve
// call it; the console's templates and its sign-in hash are not worth
// building for a push. path is the config file the console's mapping
// editor writes; reload, when not nil, is how the console asks for the
// saved config to be loaded (nil: it tells the admin to restart).
func (a *app) openDoors(env *Env, path string, logger *slog.Logger, reload func(context.Context) error) error {
	cfg, st := a.cfg, a.base
	var sources []string
	sourceTokens := map[string]string{}
	for _, s := range cfg.Sources {
		sources = append(sources, s.Name)
		if s.APIToken != "" {
			sourceTokens[s.Name] = s.APIToken
		}
	}
	var scimDoor http.Handler
	if cfg.SCIM.Source != "" {
		scimDoor = scim.New(scim.Config{Store: a.passwords.Intake(st), Engine: engines(a.engines), Source: cfg.SCIM.Source,
			Token: cfg.SCIM.Token, Tokens: []string{cfg.Server.APIToken, sourceTokens[cfg.SCIM.Source]},
			Passwords: a.passwords, Logger: logger.With("door", "scim")})
	}
	var feed httpserver.ChangesFeed
	if a.pull != nil {
		feed = a.pull.Feed
	}
	ui, err := newConsole(env, cfg, a.store, a.engines, logger, consoleExtras{app: a, env: env, path: path, reload: reload})
	if err != nil {
		return err
	}
	a.server = httpserver.New(httpserver.Config{Store: a.store, Engine: engines(a.engines), Sources: sources,
		APIToken: cfg.Server.APIToken, SourceTokens: sourceTokens, MaxBacklog: cfg.Server.MaxBacklog,
		SCIM: scimDoor, Changes: feed, Console: ui, Logger: logger, Approve: approver(st, cfg), Keep: keeper(st, cfg), Registry: a.registry,
		MetricsNeedsToken: cfg.Server.MetricsAuth == config.AuthToken, HealthzNeedsToken: cfg.Server.HealthzAuth == config.AuthToken,
		Health: engines(a.engines).Health, Inspect: newServedInspect(st, a.engines)})
	if doorsHook != nil {
		doorsHook()
	}
	return nil
}

// serveTune, when set by a test, adjusts the engines serve builds, at
// start and on every reload (a shorter schema check, say).
var serveTune func(*engine.Config)

func serveTunes() []func(*engine.Config) {
	if serveTune == nil {
		return nil
	}
	return []func(*engine.Config){serveTune}
}

// doorsHook, when set by a test, is called each time openDoors has built
// the doors: building them leaves no other trace before serve listens.
var doorsHook func()

// connect builds a client for a configured connection.
func connect(ctx context.Context, env *Env, c forcesync.Connection, hooks salesforce.Hooks) (*salesforce.Client, error) {
	if c.Saved != "" {
		client, _, err := openSaved(ctx, env, c.Saved, hooks)
		return client, err
	}
	var auth salesforce.Auth
	switch c.Auth {
	case forcesync.AuthClientCredentials:
		auth = salesforce.ClientCredentials{ClientID: c.ClientID, ClientSecret: c.ClientSecret}
	case forcesync.AuthJWT:
		auth = salesforce.JWTBearer{ClientID: c.ClientID, Username: c.Username, PrivateKeyPEM: []byte(c.PrivateKey)}
	case forcesync.AuthPassword:
		auth = salesforce.Password{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Username: c.Username, Password: c.Password}
	case forcesync.AuthWebServer:
		auth = &salesforce.RefreshToken{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken}
	case forcesync.AuthAccessToken:
		auth = salesforce.StaticToken{AccessToken: c.AccessToken}
	default:
		return nil, fmt.Errorf("auth method %q is not supported", c.Auth)
	}
	return salesforce.NewClient(ctx, salesforce.Config{LoginURL: c.LoginURL, APIVersion: c.APIVersion, Auth: auth,
		Hooks: hooks, ClientName: "forcesync"})
}

// engines lets the HTTP API speak to every connection's engine as one.
type engines []*engine.Engine

func (es engines) MappingsFor(source string) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.MappingsFor(source)...)
	}
	return out
}

func (es engines) Notify() {
	for _, e := range es {
		e.Notify()
	}
}

// Paused says why pushing is paused: with one connection its reason; with
// several, each paused connection named with its reason ("" when none is).
func (es engines) Paused() string {
	var out []string
	for _, e := range es {
		if why := e.Paused(); why != "" {
			if len(es) == 1 {
				return why
			}
			out = append(out, e.Connection()+": "+why)
		}
	}
	return strings.Join(out, "; ")
}

// PausedOf implements console.ConnectionPauses: the pause of the engine
// pushing through connection.
func (es engines) PausedOf(connection string) string {
	for _, e := range es {
		if e.Connection() == connection {
			return e.Paused()
		}
	}
	return ""
}

// runServe runs until ctx ends. ready, when not nil, receives the API's
// address once it listens (tests). A reload (SIGHUP, or the console after
// saving a mapping) loads the config again and swaps engines and routes
// over the same store, so queued work carries over; a config that does not
// load leaves the running one in place.
func runServe(ctx context.Context, env *Env, f serveFlags, ready func(addr string)) error {
	logger := newServeLogger(env.Stderr)
	sv := &serving{reqs: make(chan chan error)}
	a, err := openApp(ctx, env, f.config, logger, serveTunes()...)
	if err != nil {
		return err
	}
	defer a.closeStore()
	if err := a.openDoors(env, f.config, logger, sv.reload); err != nil {
		return err
	}
	sv.handler.Store(a.server)
	addr := f.listen
	if addr == "" {
		addr = a.cfg.Server.Listen
	}
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := a.server.HTTPServer()
	srv.Handler = sv // the handler of the app running now, swapped on a reload
	fmt.Fprintf(env.Stdout, "forcesync API on http://%s (mappings: %d)\n", ln.Addr(), len(a.cfg.Mappings))
	fmt.Fprintf(env.Stdout, "console on http://%s/ (admins: %d)\n", ln.Addr(), len(a.cfg.Console.Admins))
	// SIGHUP is caught before serve says it is ready, so a reload asked
	// as soon as it listens never meets the default action (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if ready != nil {
		ready(ln.Addr().String())
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for {
			ectx, cancel := context.WithCancel(gctx)
			eg, ectx := errgroup.WithContext(ectx)
			for _, e := range a.engines {
				eg.Go(func() error { return e.Run(ectx) })
			}
			if a.pull != nil {
				eg.Go(func() error { return a.pull.Run(ectx) })
			}
			eg.Go(func() error { return runReconcileSchedule(ectx, a, logger) }) // reconcile_schedule.go
			eg.Go(func() error { return a.runSchedules(ectx) })                  // schedule.go
			done := make(chan error, 1)
			go func() { done <- eg.Wait() }()
			next, err := sv.waitReload(ectx, hup, func() (*app, error) {
				cfg, err := loadConfig(env, f.config)
				if err != nil {
					return nil, err
				}
				next, err := buildApp(gctx, env, cfg, a.base, logger, serveTunes()...)
				if err != nil {
					return nil, err
				}
				if err := next.openDoors(env, f.config, logger, sv.reload); err != nil {
					return nil, err
				}
				return next, nil
			}, logger)
			cancel()
			werr := <-done
			if next == nil {
				return cmp.Or(err, werr)
			}
			requeueChanged(gctx, a, next, logger) // reload_requeue.go: the old engines have stopped
			a = next
			sv.handler.Store(a.server)
			logger.Info("config reloaded", "mappings", len(a.cfg.Mappings))
		}
	})
	g.Go(func() error {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	})
	return g.Wait()
}

// serving is serve's HTTP handler, swapped whole on a reload, and the
// queue of reload requests.
type serving struct {
	handler atomic.Pointer[httpserver.Server]
	reqs    chan chan error
}

func (s *serving) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.Load().ServeHTTP(w, r) }

// reload asks runServe to load the config again and waits for the answer.
func (s *serving) reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.reqs <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitReload waits, while the engines run, for the end (ctx ends: serve
// stops, or an engine failed; it returns nil) or a reload that builds (it
// returns the new app, built before the old engines stop). A failed build
// is answered and logged, and the running app stays.
func (s *serving) waitReload(ctx context.Context, hup <-chan os.Signal, build func() (*app, error), logger *slog.Logger) (*app, error) {
	for {
		var reply chan error
		select {
		case <-ctx.Done():
			return nil, nil
		case <-hup:
			logger.Info("SIGHUP: reloading the config")
		case reply = <-s.reqs:
		}
		next, err := build()
		if err != nil {
			logger.Error("reload failed; the running config stays", "err", err)
		}
		if reply != nil {
			reply <- err
		}
		if err == nil {
			return next, nil
		}
	}
}

// fraction turns a config part where 0 means none into the engine's
// convention, where 0 means the default and a negative value none.
func fraction(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}
