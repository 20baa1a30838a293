package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/mapping"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/secret"
	"golang.org/x/oauth2"
)

// newConsole builds the admin console served under / by serve and demo.
func newConsole(env *Env, cfg *config.Config, st forcesync.Store, es []*engine.Engine, logger *slog.Logger, x consoleExtras) (*console.Console, error) {
	cc := console.Config{Store: st, Connector: consoleConnector{env}, Engine: engines(es), Mappings: cfg.Mappings, Connections: cfg.Connections,
		APIShare: cfg.Engine.APIShare, SessionTTL: cfg.Console.SessionTTL, Compiled: map[string]*mapping.Compiled{},
		OpenAPI: httpserver.OpenAPI(), Logger: logger.With("door", "console")}
	for _, a := range cfg.Console.Admins {
		cc.Admins = append(cc.Admins, console.Admin{Username: a.Username, PasswordHash: a.PasswordHash})
	}
	// Pending OAuth flows are sealed with the key of saved connections, so
	// every replica sharing it (and the saved connections) can finish one.
	cc.SealKey = func() (secret.Key, error) {
		home, err := homeDir(env)
		if err != nil {
			return secret.Key{}, err
		}
		return sealingKey(env, home, true)
	}
	if o := cfg.Console.OIDC; o != nil {
		cc.OIDC = &console.OIDC{Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
			AllowedEmails: o.AllowedEmails, AllowedDomains: o.AllowedDomains, PKCE: o.PKCE}
	}
	for _, s := range cfg.Sources {
		cc.Sources = append(cc.Sources, console.Source{Name: s.Name, Description: s.Description})
	}
	for _, e := range es {
		for _, p := range e.Pipes() {
			cc.Compiled[p.Mapping.Name] = p.Compiled
		}
	}
	// The overview says a mapping fails as /healthz and /metrics do.
	cc.Health = func() []console.ConnectionHealth {
		var out []console.ConnectionHealth
		for _, e := range es {
			ch := console.ConnectionHealth{Connection: e.Connection(), OK: true}
			if h := e.Health(); h != nil {
				st := h.Status()
				ch.OK, ch.Reason, ch.Since = st.OK, st.Reason, st.Since
			}
			out = append(out, ch)
		}
		return out
	}
	// Plan, reconcile and the guard's approval: the API's own functions.
	cc.Inspect = consoleInspect{si: newServedInspect(st, es), connections: cfg.Connections}
	cc.Approve = approver(st, cfg)
	if x.app != nil && x.app.pull != nil {
		cc.Pull = x.app.pull.Feed
	}
	if x.app != nil && x.path != "" {
		cc.Describer = consoleDescriber{x.app}
		cc.ConfigFile = configFile{x.path}
		cc.Reload = x.reload
	}
	return console.New(cc)
}

// consoleExtras turn the mapping editor on (serve): the app whose clients
// describe, the config file it writes, and how to reload after saving.
type consoleExtras struct {
	app    *app
	env    *Env
	path   string
	reload func(context.Context) error
}

// consoleDescriber describes through the app's clients.
type consoleDescriber struct{ a *app }

func (d consoleDescriber) client(conn string) (*salesforce.Client, error) {
	c := d.a.clients[conn]
	if c == nil {
		return nil, fmt.Errorf("connection %q has no mapping yet, so serve has not connected it", conn)
	}
	return c, nil
}

func (d consoleDescriber) Objects(ctx context.Context, conn string) ([]salesforce.SObjectInfo, error) {
	c, err := d.client(conn)
	if err != nil {
		return nil, err
	}
	g, err := c.DescribeGlobal(ctx)
	if err != nil {
		return nil, err
	}
	var out []salesforce.SObjectInfo
	for _, o := range g.SObjects {
		if o.Createable || o.Updateable {
			out = append(out, o)
		}
	}
	return out, nil
}

func (d consoleDescriber) Describe(ctx context.Context, conn, object string) (*salesforce.SObjectDescribe, error) {
	c, err := d.client(conn)
	if err != nil {
		return nil, err
	}
	return c.Describe(ctx, object)
}

// ResolveNames implements console.NameResolver: a User mapping's profile
// and role names are looked up in the org, as serve looks them up.
func (d consoleDescriber) ResolveNames(ctx context.Context, conn string, m forcesync.Mapping) (forcesync.Mapping, error) {
	c, err := d.client(conn)
	if err != nil {
		return m, err
	}
	return engine.ResolveNames(ctx, &engine.SalesforceAPI{Client: c}, m)
}

var _ console.NameResolver = consoleDescriber{}

// configFile is serve's --config, written atomically with a backup.
type configFile struct{ path string }

func (f configFile) Read() ([]byte, string, error) {
	b, err := os.ReadFile(f.path)
	return b, f.path, err
}

// Write copies the current file to PATH.bak-TIME, then replaces the file
// by renaming a synced temporary file over it (same directory, same mode).
func (f configFile) Write(data []byte) (string, error) {
	old, err := os.ReadFile(f.path)
	if err != nil {
		return "", err
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(f.path); err == nil {
		mode = fi.Mode().Perm()
	}
	backup := f.path + ".bak-" + time.Now().UTC().Format("20060102T150405.000")
	if err := os.WriteFile(backup, old, mode); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return "", err
	}
	return backup, nil
}

// consoleConnector gives the console forcesync login's saved connections:
// the same files, the same sealing, the same finishLogin.
type consoleConnector struct{ env *Env }

func (cc consoleConnector) Saved(ctx context.Context) ([]console.ConnectionInfo, error) {
	home, err := homeDir(cc.env)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(home, "connections", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []console.ConnectionInfo
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var sc savedConnection
		if err := json.Unmarshal(b, &sc); err != nil {
			return nil, fmt.Errorf("saved connection %s: %w", filepath.Base(f), err)
		}
		out = append(out, connectionInfo(&sc))
	}
	return out, nil
}

func connectionInfo(sc *savedConnection) console.ConnectionInfo {
	return console.ConnectionInfo{Name: sc.Name, AuthMethod: string(sc.AuthMethod), LoginURL: sc.LoginURL,
		InstanceURL: sc.InstanceURL, APIVersion: sc.APIVersion, ClientID: sc.ClientID, OrgID: sc.OrgID,
		Username: sc.Username, SavedAt: sc.SavedAt}
}

func (cc consoleConnector) SaveWebLogin(ctx context.Context, name, loginURL, clientID, clientSecret string, tok *oauth2.Token) (*console.ConnectionInfo, error) {
	if err := checkConnName(name); err != nil {
		return nil, err
	}
	sc := &savedConnection{Name: name, LoginURL: loginURL, ClientID: clientID}
	secrets := map[string]string{}
	cfg := salesforce.Config{LoginURL: loginURL}
	useWebToken(sc, secrets, &cfg, clientSecret, tok)
	if _, err := finishLogin(ctx, cc.env, sc, secrets, cfg); err != nil {
		return nil, err
	}
	info := connectionInfo(sc)
	return &info, nil
}

func (cc consoleConnector) Test(ctx context.Context, name string) (*console.ConnectionInfo, error) {
	c, sc, err := openSaved(ctx, cc.env, name, salesforce.Hooks{})
	if err != nil {
		return nil, err
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking who we are: %w", err)
	}
	info := connectionInfo(sc)
	info.OrgID, info.Username = id.OrgID, cmp.Or(id.Username, sc.Username)
	limits, err := c.Limits(ctx)
	if err != nil {
		return nil, err
	}
	if l, ok := limits["DailyApiRequests"]; ok {
		info.APIMax, info.APIUsed = l.Max, l.Max-l.Remaining
	}
	return &info, nil
}
