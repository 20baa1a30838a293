package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/secret"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Engine is what the console needs of the push engines.
type Engine interface {
	// MappingsFor names the mappings a source feeds.
	MappingsFor(source string) []string
	// Notify wakes the workers after work was queued.
	Notify()
	// Paused says why pushing is paused ("" when it is not).
	Paused() string
}

// ConnectionPauses is an Engine with one engine per connection: it says
// why pushing through one connection is paused ("" when it is not), so a
// budget pause of one org is not shown on the mappings of another.
type ConnectionPauses interface {
	PausedOf(connection string) string
}

// ConnectionHealth is one connection's health: OK, or what is wrong
// (a failing login, an org that does not answer) since when.
type ConnectionHealth struct {
	Connection string
	OK         bool
	Reason     string
	Since      time.Time
}

// Admin is one person allowed to sign in.
type Admin struct {
	Username string
	// PasswordHash is a bcrypt hash.
	PasswordHash string
}

// Source describes a source object for the pages.
type Source struct {
	Name        string
	Description string
}

// Config holds the console's dependencies. Zero values are defaults.
type Config struct {
	Store    forcesync.Store
	Sessions forcesync.SessionStore
	Engine   Engine
	Admins   []Admin
	Sources  []Source
	Mappings []forcesync.Mapping
	// Connections are the configured Salesforce connections (secrets are
	// never shown).
	Connections []forcesync.Connection
	// Connector, when set, lets admins connect orgs ("Connect to
	// Salesforce") and test saved connections.
	Connector Connector
	// Describer and ConfigFile, when both set, turn the mapping editor on.
	Describer  Describer
	ConfigFile ConfigFile
	// Reload, when set, makes serve load the config the editor saved
	// (queued work stays in the store); nil means a restart is needed.
	Reload func(ctx context.Context) error
	// Inspect, when set, serves the plan and reconcile pages and the
	// editor's plan of a change (inspect.go).
	Inspect Inspector
	// Approve, when set, lifts a mapping's mass-change pause and says how
	// many held records it requeued (the guard page's button).
	Approve func(ctx context.Context, mapping string) (int, error)
	// Pull, when set, is the pull side for the pull page.
	Pull ChangesFeed
	// Health, when set, reports each connection's health as /healthz and
	// forcesync_salesforce_up do: the overview shows the mappings of a
	// connection whose login fails or whose org does not answer as failing.
	Health func() []ConnectionHealth
	// OpenAPI is the REST API's OpenAPI document, shown on the API page.
	OpenAPI []byte
	// Compiled are the engines' compiled mappings by name, for payload
	// previews; a mapping missing here has no preview.
	Compiled map[string]*mapping.Compiled
	// APIShare is the default share of an org's daily API allocation
	// forcesync may spend, for the budget chart; zero means 0.5.
	APIShare float64
	// SessionTTL is how long a sign-in lasts; zero means 12 hours.
	SessionTTL time.Duration
	// Secure marks cookies Secure even on plain HTTP requests (a TLS proxy
	// in front); requests over TLS always get Secure cookies.
	Secure bool
	// LoginLimit is how many failed sign-ins one client address, or one
	// username, may make per LoginWindow before being refused with 429;
	// zero means 5 per 15 minutes.
	LoginLimit  int
	LoginWindow time.Duration
	// SealKey returns the key that seals pending OAuth flows in the store
	// (flows.go); replicas must share it. Nil means a key of this process
	// only: a flow then cannot outlive a restart or cross replicas.
	SealKey func() (secret.Key, error)
	// OIDC, when set, adds "Sign in with ..." through an OpenID Connect
	// provider (oidc.go).
	OIDC   *OIDC
	Logger *slog.Logger
	Now    func() time.Time
}

// Console is the admin console, an http.Handler.
type Console struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	pages   map[string]*template.Template
	limiter *limiter
	static  http.Handler
	// flows keeps pending OAuth flows (flows.go); admins the store's
	// admins, nil when the store keeps none (admins.go).
	flows    forcesync.FlowStore
	admins   forcesync.AdminStore
	localKey secret.Key
	oidc     *oidcClient
}

// New returns the console; routes.go lists its routes.
func New(cfg Config) (*Console, error) {
	go dummyHash() // ready before the first sign-in, so it costs no more than any other
	if cfg.Sessions == nil {
		if s, ok := forcesync.StoreAs[forcesync.SessionStore](cfg.Store); ok {
			cfg.Sessions = s
		}
	}
	if cfg.Sessions == nil {
		return nil, forcesync.Errorf(forcesync.EInvalid, "console: the store keeps no sessions")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.APIShare <= 0 {
		cfg.APIShare = 0.5
	}
	if cfg.LoginLimit <= 0 {
		cfg.LoginLimit = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	flowStore, ok := forcesync.StoreAs[forcesync.FlowStore](cfg.Store)
	if !ok {
		return nil, forcesync.Errorf(forcesync.EInvalid, "console: the store keeps no OAuth flows")
	}
	adminStore, _ := forcesync.StoreAs[forcesync.AdminStore](cfg.Store)
	localKey, err := secret.NewKey()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(staticFS, "static")
	c := &Console{cfg: cfg, mux: http.NewServeMux(), pages: pages,
		limiter: newLimiter(cfg.LoginLimit, cfg.LoginWindow),
		static:  http.StripPrefix("/static/", http.FileServerFS(sub)),
		flows:   flowStore, admins: adminStore, localKey: localKey}
	if cfg.OIDC != nil {
		if c.oidc, err = newOIDCClient(cfg.OIDC, cfg.LoginLimit*4, cfg.LoginWindow); err != nil {
			return nil, err
		}
	}
	c.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(c.crossOriginRefused))
	c.handler = securityHeaders(cop.Handler(c.mux))
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// csp allows our own script, styles and images only, nothing inline, and
// no framing (clickjacking).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every console response carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.URL.Path != "/static/console.css" && r.URL.Path != "/static/console.js" {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

// crossOriginRefused answers a state-changing request from another origin.
func (c *Console) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	c.cfg.Logger.Warn("console: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	c.render(w, r, http.StatusForbidden, "error.html", &pageData{Title: "Refused",
		Message: "This request came from another site, so forcesync refused it. Use the console's own pages."})
}
