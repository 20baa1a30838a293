package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Grant types of the token endpoint.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
	grantPassword          = "password"
	grantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// serveToken is POST /services/oauth2/token: every grant type, form-encoded.
func (e *Emulator) serveToken(c *call) {
	if oe := parseOAuthForm(c.r); oe != nil {
		writeOAuthError(c.w, oe)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var (
		resp tokenResponse
		oe   *oauthError
	)
	switch gt := c.r.Form.Get("grant_type"); gt {
	case "":
		oe = errRequest("grant type is missing")
	case grantAuthorizationCode:
		resp, oe = e.grantCodeLocked(c.r)
	case grantRefreshToken:
		resp, oe = e.grantRefreshLocked(c.r)
	case grantClientCredentials:
		resp, oe = e.grantClientCredentialsLocked(c.r)
	case grantPassword:
		resp, oe = e.grantPasswordLocked(c.r)
	case grantJWTBearer:
		resp, oe = e.grantJWTLocked(c.r)
	default:
		oe = &oauthError{"unsupported_grant_type", "grant type not supported", http.StatusBadRequest}
	}
	if oe != nil {
		writeOAuthError(c.w, oe)
		return
	}
	writeOAuthJSON(c.w, http.StatusOK, resp)
}

// grantCodeLocked exchanges an authorization code (web-server flow).
func (e *Emulator) grantCodeLocked(r *http.Request) (tokenResponse, *oauthError) {
	code := r.Form.Get("code")
	verifier := r.Form.Get("code_verifier")
	id, _, _ := clientCredentials(r)
	if id == "" {
		return tokenResponse{}, errInvalidClientID()
	}
	if e.appLocked(id) == nil {
		return tokenResponse{}, errInvalidClientID()
	}
	if code == "" {
		return tokenResponse{}, errRequest("code is missing")
	}
	ac, ok := e.authCodes[code]
	if !ok {
		return tokenResponse{}, errGrant("invalid authorization code")
	}
	// A code is good for one attempt, so a wrong verifier cannot be retried.
	delete(e.authCodes, code)
	if !e.now().Before(ac.Expires) {
		return tokenResponse{}, errGrant("expired authorization code")
	}
	if ac.ClientID != id {
		return tokenResponse{}, errGrant("invalid authorization code")
	}
	pkce := ac.CodeChallenge != ""
	// A confidential app proves itself with its secret unless the code is
	// bound to a PKCE verifier.
	app, oe := e.authClientLocked(r, !pkce)
	if oe != nil {
		return tokenResponse{}, oe
	}
	if ru := r.Form.Get("redirect_uri"); ru != ac.RedirectURI {
		return tokenResponse{}, errGrant("redirect_uri must match configuration")
	}
	if pkce {
		if verifier == "" {
			return tokenResponse{}, errGrant("invalid code verifier")
		}
		if !pkceMatches(ac.CodeChallenge, ac.CodeChallengeMethod, verifier) {
			return tokenResponse{}, errRequest("invalid code verifier")
		}
	}
	u := e.userByIDLocked(ac.UserID)
	if u == nil || !u.Active {
		return tokenResponse{}, &oauthError{"inactive_user", "user is inactive", http.StatusBadRequest}
	}
	withRefresh := app.alwaysRefresh || hasScope(ac.Scopes, "refresh_token", "offline_access", "full")
	return e.grantLocked(r, app, u, ac.Scopes, withRefresh, pkce, "", true, ac.Nonce), nil
}

// pkceMatches checks a PKCE verifier against the challenge of the authorize
// request: S256 (the default) compares base64url(SHA-256(verifier)).
func pkceMatches(challenge, method, verifier string) bool {
	want := verifier
	if !strings.EqualFold(method, "plain") {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// grantRefreshLocked mints a new access token from a refresh token. As on
// Salesforce, the response carries no new refresh token.
func (e *Emulator) grantRefreshLocked(r *http.Request) (tokenResponse, *oauthError) {
	id, _, _ := clientCredentials(r)
	if id == "" || e.appLocked(id) == nil {
		return tokenResponse{}, errInvalidClientID()
	}
	rt := r.Form.Get("refresh_token")
	g, ok := e.refresh[rt]
	if rt == "" || !ok {
		return tokenResponse{}, errExpiredToken()
	}
	app, oe := e.authClientLocked(r, !g.PKCE)
	if oe != nil {
		return tokenResponse{}, oe
	}
	if g.ClientID != app.ClientID {
		return tokenResponse{}, errExpiredToken()
	}
	u := e.userByIDLocked(g.UserID)
	if u == nil || !u.Active {
		return tokenResponse{}, &oauthError{"inactive_user", "user is inactive", http.StatusBadRequest}
	}
	return e.grantLocked(r, app, u, g.Scopes, false, g.PKCE, rt, true, ""), nil
}

// grantClientCredentialsLocked runs as the app's "run as" user. Salesforce
// serves this flow on My Domain hosts only; the emulator's own host counts as
// one unless its base URL is a login host.
func (e *Emulator) grantClientCredentialsLocked(r *http.Request) (tokenResponse, *oauthError) {
	app, oe := e.authClientLocked(r, true)
	if oe != nil {
		return tokenResponse{}, oe
	}
	if app.public {
		return tokenResponse{}, errInvalidClient()
	}
	if isLoginHost(e.oauthBaseURL(r)) {
		return tokenResponse{}, errGrant("request not supported on this domain")
	}
	u := e.adminLocked()
	if app.RunAs != "" {
		u = e.userByNameLocked(app.RunAs)
	}
	if u == nil {
		return tokenResponse{}, errGrant("no client credentials user enabled")
	}
	if !u.Active {
		return tokenResponse{}, &oauthError{"inactive_user", "user is inactive", http.StatusBadRequest}
	}
	return e.grantLocked(r, app, u, appScopesNoRefresh(r.Form.Get("scope")), false, false, "", true, ""), nil
}

// appScopesNoRefresh is the scope of a flow that never issues refresh
// tokens (password, client credentials, JWT bearer). These flows have no
// consent step: the token carries the connected app's scopes, which
// include api, whatever scope the request names, so a client that sends
// scope=openid (or refresh_token) still gets a token the REST API takes.
func appScopesNoRefresh(requested string) []string {
	scopes := parseScopes(requested)
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	out := make([]string, 0, len(scopes)+1)
	for _, s := range scopes {
		if s != "refresh_token" && s != "offline_access" {
			out = append(out, s)
		}
	}
	if !hasScope(out, "api", "full") {
		out = append(out, "api")
	}
	return out
}

// isLoginHost reports whether base is login.salesforce.com or test.salesforce.com.
func isLoginHost(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return h == "login.salesforce.com" || h == "test.salesforce.com"
}

// grantPasswordLocked is the username-password flow. Salesforce's response
// to it usually has no scope.
func (e *Emulator) grantPasswordLocked(r *http.Request) (tokenResponse, *oauthError) {
	app, oe := e.authClientLocked(r, true)
	if oe != nil {
		return tokenResponse{}, oe
	}
	u := e.userByNameLocked(r.Form.Get("username"))
	if !e.checkAPIPasswordLocked(u, r.Form.Get("password")) {
		return tokenResponse{}, errAuthFailure()
	}
	return e.grantLocked(r, app, u, appScopesNoRefresh(r.Form.Get("scope")), false, false, "", false, ""), nil
}
