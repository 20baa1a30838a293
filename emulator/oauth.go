package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The connected apps every emulated org has.
const (
	// DemoClientID and DemoClientSecret are forcesync's own connected app;
	// it accepts any loopback redirect URI and always issues refresh tokens.
	DemoClientID     = "forcesync-demo"
	DemoClientSecret = "forcesync-demo-secret"
	// CLIClientID is the Salesforce CLI's public client (no secret).
	CLIClientID = "PlatformCLI"
)

// authCodeTTL is how long an authorization code can be exchanged.
const authCodeTTL = 15 * time.Minute

// defaultScopes are granted when a client asks for none, as a connected app
// grants its selected scopes.
var defaultScopes = []string{"api", "refresh_token"}

// oauthApp is a connected app as the OAuth endpoints use it.
type oauthApp struct {
	ConnectedApp
	// public apps have no secret and never need one (PKCE protects them).
	public bool
	// alwaysRefresh issues a refresh token with every code grant, whatever
	// the scope (forcesync's demo app).
	alwaysRefresh bool
	// jwtKey verifies JWT bearer assertions; nil when no Certificate is set.
	jwtKey any
}

// oauthState is the emulator's OAuth bookkeeping beyond the token maps in
// Emulator. Guarded by Emulator.mu, except the signing key (signer).
type oauthState struct {
	apps map[string]*oauthApp
	// logins maps a browser's login cookie to the user it logged in as.
	logins map[string]string
	// approved records which users allowed which apps (user Id + " " + client id):
	// the approve page is then skipped and JWT bearer is allowed.
	approved map[string]bool
	// tickets are approve pages shown and not yet answered.
	tickets map[string]*approveTicket

	signerOnce sync.Once
	signer     *signingKey
}

// initOAuth builds the connected apps of e.cfg; New calls it once the org's
// users exist.
func (e *Emulator) initOAuth() error {
	st := &oauthState{
		apps:     map[string]*oauthApp{},
		logins:   map[string]string{},
		approved: map[string]bool{},
		tickets:  map[string]*approveTicket{},
	}
	st.apps[DemoClientID] = &oauthApp{
		ConnectedApp:  ConnectedApp{ClientID: DemoClientID, ClientSecret: DemoClientSecret},
		alwaysRefresh: true,
	}
	st.apps[CLIClientID] = &oauthApp{ConnectedApp: ConnectedApp{ClientID: CLIClientID}, public: true}
	seen := map[string]bool{}
	for i, ca := range e.cfg.ConnectedApps {
		if ca.ClientID == "" {
			return fmt.Errorf("connected_apps[%d]: client_id is required", i)
		}
		if seen[ca.ClientID] {
			return fmt.Errorf("connected_apps[%d]: duplicate client_id %q", i, ca.ClientID)
		}
		seen[ca.ClientID] = true
		app := &oauthApp{ConnectedApp: ca, public: ca.ClientSecret == ""}
		if ca.ClientID == DemoClientID {
			app.alwaysRefresh = true
		}
		for _, ru := range ca.RedirectURIs {
			if u, err := url.Parse(ru); err != nil || u.Scheme == "" || u.Host == "" {
				return fmt.Errorf("connected_apps[%d]: redirect URI %q is not an absolute URL", i, ru)
			}
		}
		if ca.Certificate != "" {
			key, err := parseVerifyKey(ca.Certificate)
			if err != nil {
				return fmt.Errorf("connected_apps[%d]: certificate: %w", i, err)
			}
			app.jwtKey = key
		}
		st.apps[ca.ClientID] = app
	}
	e.oauth = st
	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, ca := range e.cfg.ConnectedApps {
		if ca.RunAs != "" && e.userByNameLocked(ca.RunAs) == nil {
			return fmt.Errorf("connected_apps[%d]: run_as names unknown user %q", i, ca.RunAs)
		}
	}
	return nil
}

// appLocked returns the connected app with client id id; nil if none.
func (e *Emulator) appLocked(id string) *oauthApp { return e.oauth.apps[id] }

// allowsRedirect reports whether the app may send codes to redirectURI:
// one of its registered URIs exactly, or with none registered any loopback
// http(s) URI (what native apps and CLIs use, RFC 8252).
func (a *oauthApp) allowsRedirect(redirectURI string) bool {
	if len(a.RedirectURIs) > 0 {
		return slices.Contains(a.RedirectURIs, redirectURI)
	}
	return isLoopbackURL(redirectURI)
}

// isLoopbackURL reports whether s is an http(s) URL on 127.0.0.0/8, ::1 or localhost.
func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

// isLoopbackHost reports whether host names this machine's loopback interface.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// --- errors ------------------------------------------------------------------

// oauthError is an OAuth error answer: {"error","error_description"}.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
	status      int
}

func (o *oauthError) Error() string { return o.Code + ": " + o.Description }

// The OAuth errors Salesforce answers (salesforce-api.md §2.4).
func errInvalidClientID() *oauthError {
	return &oauthError{"invalid_client_id", "client identifier invalid", http.StatusBadRequest}
}
func errInvalidClient() *oauthError {
	return &oauthError{"invalid_client", "invalid client credentials", http.StatusBadRequest}
}
func errAuthFailure() *oauthError {
	return &oauthError{"invalid_grant", "authentication failure", http.StatusBadRequest}
}
func errExpiredToken() *oauthError {
	return &oauthError{"invalid_grant", "expired access/refresh token", http.StatusBadRequest}
}
func errGrant(desc string) *oauthError {
	return &oauthError{"invalid_grant", desc, http.StatusBadRequest}
}
func errRequest(desc string) *oauthError {
	return &oauthError{"invalid_request", desc, http.StatusBadRequest}
}

// writeOAuthJSON writes an OAuth endpoint's JSON answer. Tokens must never be
// cached by a proxy or browser.
func writeOAuthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeOAuthError(w http.ResponseWriter, oe *oauthError) {
	status := oe.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeOAuthJSON(w, status, oe)
}

// --- request parsing --------------------------------------------------------------

// maxOAuthBody caps a token, revoke or introspect request body.
const maxOAuthBody = 1 << 20

// parseOAuthForm reads the request's parameters: the query string and, for a
// form-encoded body, the body (Salesforce accepts either). Other body types
// are not read, so their parameters count as missing.
func parseOAuthForm(r *http.Request) *oauthError {
	r.Body = http.MaxBytesReader(nil, r.Body, maxOAuthBody)
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		// ParseForm would ignore it anyway; only the query string counts.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return errRequest("malformed query string")
		}
		r.Form = q
		r.PostForm = url.Values{}
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return errRequest("malformed request: " + err.Error())
	}
	return nil
}

// clientCredentials returns the client id and secret of a request, from HTTP
// Basic authentication (URL-encoded, RFC 6749 §2.3.1) or from the form.
func clientCredentials(r *http.Request) (id, secret string, viaBasic bool) {
	if u, p, ok := r.BasicAuth(); ok {
		if du, err := url.QueryUnescape(u); err == nil {
			u = du
		}
		if dp, err := url.QueryUnescape(p); err == nil {
			p = dp
		}
		return u, p, true
	}
	return r.Form.Get("client_id"), r.Form.Get("client_secret"), false
}

// authClient finds the app of a request and checks its secret. A secret,
// when sent, must be right; requireSecret makes it mandatory for apps that
// have one.
func (e *Emulator) authClientLocked(r *http.Request, requireSecret bool) (*oauthApp, *oauthError) {
	id, secret, _ := clientCredentials(r)
	if id == "" {
		return nil, errInvalidClientID()
	}
	app := e.appLocked(id)
	if app == nil {
		return nil, errInvalidClientID()
	}
	if secret != "" || (requireSecret && !app.public) {
		if app.public || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
			return nil, errInvalidClient()
		}
	}
	return app, nil
}

// --- scopes ---------------------------------------------------------------------

// parseScopes splits a space-separated scope list, dropping duplicates.
func parseScopes(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func hasScope(scopes []string, names ...string) bool {
	for _, n := range names {
		if slices.Contains(scopes, n) {
			return true
		}
	}
	return false
}

// --- token responses ---------------------------------------------------------------

// tokenResponse is the token endpoint's success body, in Salesforce's field
// order. It never has expires_in: Salesforce access tokens end after a period
// of inactivity, which clients learn from a 401.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Signature    string `json:"signature"`
	Scope        string `json:"scope,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
}

// oauthBaseURL is the emulator's public base URL without a trailing slash
// (see baseURL).
func (e *Emulator) oauthBaseURL(r *http.Request) string { return e.baseURL(&call{e: e, r: r}) }

// identityURL is the id of a user: base/id/<org18>/<user18>.
func (e *Emulator) identityURL(r *http.Request, userID string) string {
	return e.oauthBaseURL(r) + "/id/" + e.org.id + "/" + userID
}

// tokenSignature is base64(HMAC-SHA256(secret, id+issued_at)), which lets a
// client check the response came from the org that knows its secret.
func tokenSignature(secret, id, issuedAt string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + issuedAt))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// grantLocked mints an access token (and, with withRefresh, a refresh token)
// for u on behalf of app and builds the token response.
func (e *Emulator) grantLocked(r *http.Request, app *oauthApp, u *oauthUser, scopes []string, withRefresh, pkce bool, refreshToken string, showScope bool, nonce string) tokenResponse {
	if withRefresh && refreshToken == "" {
		// Shaped like Salesforce's ("5Aep861..."): letters, digits, "-", "_"
		// and no "!", which the sf CLI's sfdx auth URL parser rejects.
		refreshToken = "5Aep861" + randomToken(64)
		e.refresh[refreshToken] = &refreshGrant{ClientID: app.ClientID, UserID: u.ID, Username: u.Username, Scopes: scopes, PKCE: pkce, Issued: e.now()}
	}
	s := e.newSessionLocked(app.ClientID, u.ID, u.Username, scopes, refreshToken)
	id := e.identityURL(r, u.ID)
	issued := strconv.FormatInt(s.Issued.UnixMilli(), 10)
	resp := tokenResponse{
		AccessToken: s.Token,
		Signature:   tokenSignature(app.ClientSecret, id, issued),
		InstanceURL: e.oauthBaseURL(r),
		ID:          id,
		TokenType:   "Bearer",
		IssuedAt:    issued,
	}
	if withRefresh {
		resp.RefreshToken = refreshToken
	}
	if showScope {
		resp.Scope = strings.Join(scopes, " ")
	}
	if hasScope(scopes, "openid") {
		resp.IDToken = e.idToken(r, app, u, s, nonce)
	}
	return resp
}
