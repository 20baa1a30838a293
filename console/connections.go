package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
	"golang.org/x/oauth2"
)

// Connector saves and tests Salesforce connections for the console (serve
// implements it over forcesync login's saved connections, so the console
// and the CLI share one store of connections and one way to save them).
type Connector interface {
	// Saved lists the saved connections.
	Saved(ctx context.Context) ([]ConnectionInfo, error)
	// SaveWebLogin proves the token of a finished web-server flow by
	// connecting with it, and saves it as connection name.
	SaveWebLogin(ctx context.Context, name, loginURL, clientID, clientSecret string, tok *oauth2.Token) (*ConnectionInfo, error)
	// Test connects with a saved connection and reports who it is and the
	// org's API limit.
	Test(ctx context.Context, name string) (*ConnectionInfo, error)
}

// ConnectionInfo is what the console shows of a connection; never a secret.
type ConnectionInfo struct {
	Name, AuthMethod, LoginURL, InstanceURL, APIVersion string
	ClientID, OrgID, Username                           string
	SavedAt                                             time.Time
	// APIUsed and APIMax are DailyApiRequests from the org's limits (Test).
	APIUsed, APIMax int
}

// connectFlow is a "Connect to Salesforce" started by an admin and not
// yet back from Salesforce, kept in the store (flows.go).
type connectFlow struct {
	User         string `json:"user"`
	Name         string `json:"name"`
	Login        string `json:"login_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Verifier     string `json:"verifier"`
	Redirect     string `json:"redirect_uri"`
}

// connectionsPage lists the config's connections and the saved ones.
type connectionsPage struct {
	Configured []forcesync.Connection
	Saved      []ConnectionInfo
	SavedErr   string
	Tested     *ConnectionInfo
	CanConnect bool
}

func (c *Console) handleConnections(w http.ResponseWriter, r *http.Request) {
	p := connectionsPage{Configured: c.cfg.Connections, CanConnect: c.cfg.Connector != nil}
	if c.cfg.Connector != nil {
		saved, err := c.cfg.Connector.Saved(r.Context())
		if err != nil {
			p.SavedErr = err.Error()
		}
		p.Saved = saved
	}
	d := &pageData{Title: "Connections", Nav: "connections", Page: p}
	c.render(w, r, http.StatusOK, "connections.html", d)
}

// connectForm is the "Connect to Salesforce" form.
type connectForm struct {
	Name, Env, LoginURL, ClientID string
	Problems                      map[string]string
	AuthorizeURL                  string // set once the flow started
	Redirect                      string
}

func (c *Console) handleConnectForm(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Connector == nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "connecting is not available here"))
		return
	}
	q := r.URL.Query()
	f := connectForm{Name: q.Get("name"), Env: q.Get("env"), LoginURL: q.Get("login_url"), ClientID: q.Get("client_id"),
		Redirect: c.redirectURL(r)}
	if f.Env == "" {
		f.Env = "production"
	}
	if f.Name == "" {
		f.Name = "default"
	}
	c.render(w, r, http.StatusOK, "connect.html", &pageData{Title: "Connect to Salesforce", Nav: "connections", Page: f})
}

var connNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// loginURLFor resolves the form's environment to a login URL.
func loginURLFor(env, custom string) (string, string) {
	switch env {
	case "production":
		return salesforce.ProductionLoginURL, ""
	case "sandbox":
		return salesforce.SandboxLoginURL, ""
	case "custom":
		u, err := url.Parse(strings.TrimSpace(custom))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return "", "Enter the My Domain login URL, such as https://acme.my.salesforce.com."
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			return "", "Use https:// (plain http is allowed only on this machine, for the emulator)."
		}
		return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), ""
	}
	return "", "Choose production, sandbox or My Domain."
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// redirectURL is the callback URL of this console, as the browser sees it;
// the connected app must list it.
func (c *Console) redirectURL(r *http.Request) string {
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/connections/callback"
}

// handleConnectStart checks the form, keeps the flow's verifier and answers
// a page whose link leads to Salesforce's authorize page. A link and not a
// redirect, so the CSP's form-action 'self' holds.
func (c *Console) handleConnectStart(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Connector == nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "connecting is not available here"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	f := connectForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Env: r.PostForm.Get("env"),
		LoginURL: r.PostForm.Get("login_url"), ClientID: strings.TrimSpace(r.PostForm.Get("client_id")),
		Problems: map[string]string{}, Redirect: c.redirectURL(r)}
	if !connNameRe.MatchString(f.Name) {
		f.Problems["name"] = "Use letters, digits, '.', '_' and '-' (at most 64)."
	}
	login, problem := loginURLFor(f.Env, f.LoginURL)
	if problem != "" {
		f.Problems["env"] = problem
	}
	if f.ClientID == "" {
		f.Problems["client_id"] = "Enter the connected app's consumer key."
	}
	if len(f.Problems) > 0 {
		c.render(w, r, http.StatusBadRequest, "connect.html", &pageData{Title: "Connect to Salesforce", Nav: "connections", Page: f,
			Error: "Some fields need attention."})
		return
	}
	flow := &salesforce.WebFlow{LoginURL: login, ClientID: f.ClientID, ClientSecret: r.PostForm.Get("client_secret"), RedirectURL: f.Redirect}
	state, verifier := salesforce.NewState(), oauth2.GenerateVerifier()
	if err := c.putFlow(r.Context(), flowConnect, state, &connectFlow{User: user(r), Name: f.Name, Login: login, ClientID: f.ClientID,
		ClientSecret: flow.ClientSecret, Verifier: verifier, Redirect: f.Redirect}); err != nil {
		c.serverError(w, r, err)
		return
	}
	f.AuthorizeURL = flow.AuthCodeURL(state, verifier)
	c.render(w, r, http.StatusOK, "connect.html", &pageData{Title: "Connect to Salesforce", Nav: "connections", Page: f})
}

// handleConnectCallback finishes the flow: Salesforce sent the browser
// back with a code, exchanged here with the verifier kept at the start.
func (c *Console) handleConnectCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p connectFlow
	err := c.takeFlow(r.Context(), flowConnect, q.Get("state"), &p)
	if err != nil && forcesync.ErrorCode(err) != forcesync.ENotFound {
		c.cfg.Logger.Error("console: reading a pending connection", "err", err)
		c.render(w, r, http.StatusInternalServerError, "error.html", &pageData{Title: "Connection not made",
			Error: "The connection started here could not be read back: " + err.Error()})
		return
	}
	if err != nil || p.User != user(r) {
		c.render(w, r, http.StatusBadRequest, "error.html", &pageData{Title: "Connection not made",
			Error: "This answer from Salesforce matches no connection started here in the last 10 minutes. Start again from Connections."})
		return
	}
	if e := q.Get("error"); e != "" {
		ae := &salesforce.AuthError{Code: e, Description: q.Get("error_description")}
		c.render(w, r, http.StatusBadRequest, "error.html", &pageData{Title: "Connection not made",
			Error: "Salesforce refused: " + ae.Error()})
		return
	}
	if q.Get("code") == "" {
		c.render(w, r, http.StatusBadRequest, "error.html", &pageData{Title: "Connection not made", Error: "Salesforce sent no authorization code."})
		return
	}
	flow := &salesforce.WebFlow{LoginURL: p.Login, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: p.Redirect}
	tok, err := flow.Exchange(r.Context(), q.Get("code"), p.Verifier)
	if err != nil {
		c.cfg.Logger.Warn("console: code exchange failed", "connection", p.Name, "err", err)
		c.render(w, r, http.StatusBadGateway, "error.html", &pageData{Title: "Connection not made",
			Error: "Exchanging the code with Salesforce failed: " + err.Error()})
		return
	}
	info, err := c.cfg.Connector.SaveWebLogin(r.Context(), p.Name, p.Login, p.ClientID, p.ClientSecret, tok)
	if err != nil {
		c.cfg.Logger.Warn("console: saving a connection failed", "connection", p.Name, "err", err)
		c.render(w, r, http.StatusBadGateway, "error.html", &pageData{Title: "Connection not made", Error: err.Error()})
		return
	}
	c.cfg.Logger.Info("console: connected", "user", user(r), "connection", info.Name, "org", info.OrgID)
	http.Redirect(w, r, "/connections/"+url.PathEscape(info.Name)+"?done=connected", http.StatusSeeOther)
}

// connectionPage is one saved connection, tested.
type connectionPage struct {
	Info      *ConnectionInfo
	TestError string
	Reauth    string // the connect form prefilled, to re-authorize
}

func (c *Console) handleConnection(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Connector == nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "no saved connections here"))
		return
	}
	name := r.PathValue("name")
	saved, err := c.cfg.Connector.Saved(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	var p connectionPage
	for i := range saved {
		if saved[i].Name == name {
			p.Info = &saved[i]
		}
	}
	if p.Info == nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "no saved connection %q", name))
		return
	}
	// Test on every view: the page is the "test connection" button's answer.
	if info, err := c.cfg.Connector.Test(r.Context(), name); err != nil {
		p.TestError = err.Error()
	} else {
		p.Info = info
	}
	env, custom := "custom", p.Info.LoginURL
	switch p.Info.LoginURL {
	case salesforce.ProductionLoginURL:
		env, custom = "production", ""
	case salesforce.SandboxLoginURL:
		env, custom = "sandbox", ""
	}
	p.Reauth = "/connections/new?" + url.Values{"name": {name}, "env": {env}, "login_url": {custom}, "client_id": {p.Info.ClientID}}.Encode()
	d := &pageData{Title: "Connection " + name, Nav: "connections", Page: p}
	if r.URL.Query().Get("done") == "connected" {
		d.Message = "Connected. forcesync saved the connection; mappings use it once the config names it (saved: " + name + ")."
	}
	c.render(w, r, http.StatusOK, "connection.html", d)
}
