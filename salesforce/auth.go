package salesforce

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// OAuth endpoint paths, on the login host.
const (
	authorizePath = "/services/oauth2/authorize"
	tokenPath     = "/services/oauth2/token"
	revokePath    = "/services/oauth2/revoke"
	userinfoPath  = "/services/oauth2/userinfo"
)

// AuthEnv is what a flow needs from the Client: the login host and an HTTP
// client for the token endpoint.
type AuthEnv struct {
	LoginURL   string // no trailing slash
	HTTPClient *http.Client
	Now        func() time.Time
}

func (e AuthEnv) ctx(ctx context.Context) context.Context {
	if e.HTTPClient == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, e.HTTPClient)
}

func (e AuthEnv) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Auth is a way to obtain access tokens. Salesforce tokens carry no
// expiry: the Client asks for a first token (stale == nil), then for a new
// one only after the org rejected stale with 401 INVALID_SESSION_ID. A flow
// that cannot renew returns an *AuthError with Reauthorize set. The Client
// never calls Token concurrently for renewals (single flight).
type Auth interface {
	Token(ctx context.Context, env AuthEnv, stale *oauth2.Token) (*oauth2.Token, error)
}

// StaticToken uses an access token obtained elsewhere (set
// Config.InstanceURL too). It cannot be renewed: a rejected token is an
// *AuthError with Reauthorize.
type StaticToken struct {
	AccessToken string
}

// Token implements Auth.
func (a StaticToken) Token(_ context.Context, _ AuthEnv, stale *oauth2.Token) (*oauth2.Token, error) {
	if a.AccessToken == "" {
		return nil, &AuthError{Code: "no_token", Description: "no access token configured", Reauthorize: true}
	}
	if stale != nil {
		return nil, &AuthError{Code: CodeInvalidSession, Description: "the access token was rejected and cannot be renewed", Reauthorize: true}
	}
	return &oauth2.Token{AccessToken: a.AccessToken, TokenType: "Bearer"}, nil
}

// RefreshToken renews tokens with a refresh token from the web-server flow.
// AccessToken, when set, is used first without a call (set
// Config.InstanceURL then). A revoked or expired refresh token is an
// *AuthError with Reauthorize. If Salesforce rotates the refresh token the
// new one is kept (and handed to Hooks.OnToken). Use it by pointer.
type RefreshToken struct {
	ClientID     string
	ClientSecret string // empty for public clients with PKCE
	RefreshToken string
	AccessToken  string

	mu sync.Mutex
}

// Token implements Auth.
func (a *RefreshToken) Token(ctx context.Context, env AuthEnv, stale *oauth2.Token) (*oauth2.Token, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if stale == nil && a.AccessToken != "" {
		return &oauth2.Token{AccessToken: a.AccessToken, TokenType: "Bearer", RefreshToken: a.RefreshToken}, nil
	}
	if a.RefreshToken == "" {
		return nil, &AuthError{Code: "no_refresh_token", Description: "no refresh token to renew the session with", Reauthorize: true}
	}
	cfg := oauthConfig(env.LoginURL, a.ClientID, a.ClientSecret, "", nil)
	tok, err := cfg.TokenSource(env.ctx(ctx), &oauth2.Token{RefreshToken: a.RefreshToken}).Token()
	if err != nil {
		return nil, authErrorFrom("refresh", err)
	}
	a.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		a.RefreshToken = tok.RefreshToken
	}
	return tok, nil
}

// ClientCredentials is the client-credentials flow: the connected app runs
// as its configured user. Salesforce serves it only on My Domain hosts, so
// login.salesforce.com and test.salesforce.com are refused before any call.
// Renewal mints a new token.
type ClientCredentials struct {
	ClientID     string
	ClientSecret string
}

// Token implements Auth.
func (a ClientCredentials) Token(ctx context.Context, env AuthEnv, _ *oauth2.Token) (*oauth2.Token, error) {
	if isGenericLoginHost(env.LoginURL) {
		return nil, &AuthError{Code: "unsupported_host", Description: "the client credentials flow needs the org's My Domain URL as login URL, not " + env.LoginURL}
	}
	cc := clientcredentials.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret,
		TokenURL:     env.LoginURL + tokenPath,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := cc.Token(env.ctx(ctx))
	if err != nil {
		return nil, authErrorFrom("client credentials", err)
	}
	return tok, nil
}

// isGenericLoginHost reports login.salesforce.com and test.salesforce.com.
func isGenericLoginHost(loginURL string) bool {
	u, err := url.Parse(loginURL)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "login.salesforce.com" || h == "test.salesforce.com"
}

// JWTBearer is the JWT bearer flow: an assertion signed with the private
// key of the connected app's certificate, for a pre-authorized user. No
// secret and no refresh token: renewal signs a new assertion.
type JWTBearer struct {
	ClientID string // consumer key: the iss claim
	Username string // the sub claim
	// PrivateKey signs the assertion (RS256). Set it or PrivateKeyPEM.
	PrivateKey *rsa.PrivateKey
	// PrivateKeyPEM is a PKCS#1 or PKCS#8 RSA key in PEM.
	PrivateKeyPEM []byte
	// Audience is the aud claim. Empty: the login URL, except that My
	// Domain hosts use https://login.salesforce.com (https://test.salesforce.com
	// for sandboxes), as Salesforce asks.
	Audience string
	// Expires is the assertion lifetime. 0 means 3 minutes, the most
	// Salesforce accepts; larger values are capped at 3 minutes.
	Expires time.Duration
}

// Token implements Auth.
func (a JWTBearer) Token(ctx context.Context, env AuthEnv, _ *oauth2.Token) (*oauth2.Token, error) {
	assertion, err := a.Assertion(env.LoginURL, env.now())
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	}
	return postToken(ctx, env, form, "jwt bearer")
}

// Assertion builds the signed JWT for loginURL at time now.
func (a JWTBearer) Assertion(loginURL string, now time.Time) (string, error) {
	key := a.PrivateKey
	if key == nil {
		k, err := ParseRSAPrivateKey(a.PrivateKeyPEM)
		if err != nil {
			return "", err
		}
		key = k
	}
	if a.ClientID == "" || a.Username == "" {
		return "", errors.New("salesforce: JWT bearer needs ClientID and Username")
	}
	exp := a.Expires
	if exp <= 0 || exp > 3*time.Minute {
		exp = 3 * time.Minute
	}
	aud := a.Audience
	if aud == "" {
		aud = jwtAudience(loginURL)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}{a.ClientID, a.Username, aud, now.Add(exp).Unix()})
	if err != nil {
		return "", err
	}
	signing := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("salesforce: signing JWT: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// jwtAudience picks the aud claim for a login URL.
func jwtAudience(loginURL string) string {
	u, err := url.Parse(loginURL)
	if err != nil {
		return loginURL
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case strings.HasSuffix(h, ".sandbox.my.salesforce.com"):
		return SandboxLoginURL
	case strings.HasSuffix(h, ".my.salesforce.com"):
		return ProductionLoginURL
	}
	return strings.TrimRight(loginURL, "/")
}

// ParseRSAPrivateKey reads an RSA private key in PEM (PKCS#1 or PKCS#8).
func ParseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("salesforce: no PEM block in private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("salesforce: private key is neither PKCS#1 nor PKCS#8")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("salesforce: private key is not RSA")
	}
	return rk, nil
}

// Password is the username-password flow. Salesforce discourages it (and
// is retiring it): prefer JWTBearer or ClientCredentials for servers.
// SecurityToken is appended to the password when the caller's IP is not
// allow-listed. Renewal logs in again.
type Password struct {
	ClientID      string
	ClientSecret  string
	Username      string
	Password      string
	SecurityToken string
}

// Token implements Auth.
func (a Password) Token(ctx context.Context, env AuthEnv, _ *oauth2.Token) (*oauth2.Token, error) {
	cfg := oauthConfig(env.LoginURL, a.ClientID, a.ClientSecret, "", nil)
	tok, err := cfg.PasswordCredentialsToken(env.ctx(ctx), a.Username, a.Password+a.SecurityToken)
	if err != nil {
		return nil, authErrorFrom("password", err)
	}
	return tok, nil
}

// WebFlow is the web-server (authorization code) flow with PKCE S256 and
// state. Typical use:
//
//	state, verifier := salesforce.NewState(), oauth2.GenerateVerifier()
//	redirect the user to flow.AuthCodeURL(state, verifier); keep both
//	on callback: check CheckState(r.FormValue("state"), state), then
//	tok, err := flow.Exchange(ctx, r.FormValue("code"), verifier)
//	client, err := salesforce.NewClient(ctx, Config{LoginURL: ..., Auth: flow.Auth(tok)})
type WebFlow struct {
	LoginURL     string // empty: ProductionLoginURL
	ClientID     string
	ClientSecret string // empty for public clients
	RedirectURL  string
	Scopes       []string // empty: the connected app's default scopes
	HTTPClient   *http.Client
}

func (w *WebFlow) login() string {
	if w.LoginURL == "" {
		return ProductionLoginURL
	}
	return strings.TrimRight(w.LoginURL, "/")
}

// AuthCodeURL is where to send the user's browser. verifier stays secret
// on the server; only its S256 challenge goes in the URL.
func (w *WebFlow) AuthCodeURL(state, verifier string) string {
	cfg := oauthConfig(w.login(), w.ClientID, w.ClientSecret, w.RedirectURL, w.Scopes)
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Exchange trades the callback's code for tokens (POST form; the verifier
// proves this server started the flow).
func (w *WebFlow) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	cfg := oauthConfig(w.login(), w.ClientID, w.ClientSecret, w.RedirectURL, w.Scopes)
	if w.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, w.HTTPClient)
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, authErrorFrom("authorization code", err)
	}
	return tok, nil
}

// Auth returns the Auth that keeps a session from tok alive with its
// refresh token.
func (w *WebFlow) Auth(tok *oauth2.Token) *RefreshToken {
	return &RefreshToken{ClientID: w.ClientID, ClientSecret: w.ClientSecret, RefreshToken: tok.RefreshToken}
}

// NewState returns a fresh random state value for AuthCodeURL.
func NewState() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckState compares the callback's state with the one issued, in
// constant time. An empty issued state never matches.
func CheckState(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func oauthConfig(login, id, secret, redirect string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		RedirectURL:  redirect,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   login + authorizePath,
			TokenURL:  login + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// reauthorizeCodes are token endpoint errors no retry can fix.
var reauthorizeCodes = map[string]bool{
	"invalid_grant": true, "invalid_client": true, "invalid_client_id": true,
	"unauthorized_client": true, "inactive_user": true, "inactive_org": true,
}

// authErrorFrom turns an x/oauth2 error into an *AuthError, dropping the
// raw body (which x/oauth2 puts in its message) so nothing sensitive leaks.
func authErrorFrom(flow string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		ae := &AuthError{Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			ae.Status = re.Response.StatusCode
		}
		if ae.Code == "" {
			// Not an OAuth JSON error: keep the parsed REST error if any.
			pe := ParseError(ae.Status, re.Body)
			ae.Code = pe.Code
			if ae.Code == "" {
				ae.Code = fmt.Sprintf("http_%d", ae.Status)
			}
			ae.Description = pe.Message
		}
		ae.Reauthorize = reauthorizeCodes[ae.Code]
		return ae
	}
	return fmt.Errorf("salesforce: %s token: %w", flow, err)
}

// postToken posts a grant form to the token endpoint and reads the answer
// the way x/oauth2 does (extra fields such as instance_url and id kept).
func postToken(ctx context.Context, env AuthEnv, form url.Values, flow string) (*oauth2.Token, error) {
	hc := env.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.LoginURL+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("salesforce: %s token: %w", flow, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("salesforce: %s token: %w", flow, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("salesforce: %s token: %w", flow, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		ae := &AuthError{Status: resp.StatusCode}
		if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
			ae.Code, ae.Description = oe.Error, oe.Description
		} else {
			pe := ParseError(resp.StatusCode, body)
			ae.Code, ae.Description = pe.Code, pe.Message
			if ae.Code == "" {
				ae.Code = fmt.Sprintf("http_%d", resp.StatusCode)
			}
		}
		ae.Reauthorize = reauthorizeCodes[ae.Code]
		return nil, ae
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &AuthError{Status: resp.StatusCode, Code: "invalid_response", Description: "token response is not JSON"}
	}
	at, _ := raw["access_token"].(string)
	if at == "" {
		return nil, &AuthError{Status: resp.StatusCode, Code: "invalid_response", Description: "token response has no access_token"}
	}
	tok := &oauth2.Token{AccessToken: at, TokenType: "Bearer"}
	if tt, _ := raw["token_type"].(string); tt != "" {
		tok.TokenType = tt
	}
	if rt, _ := raw["refresh_token"].(string); rt != "" {
		tok.RefreshToken = rt
	}
	return tok.WithExtra(raw), nil
}

// Identity is who the session acts as.
type Identity struct {
	OrgID       string // 18-character organization Id
	UserID      string // 18-character user Id
	Username    string
	IdentityURL string // https://login.salesforce.com/id/<org>/<user>
}

// IdentityFromToken reads the org and user Ids from the token's id URL
// (".../id/<orgId>/<userId>"), without a call.
func IdentityFromToken(tok *oauth2.Token) (Identity, bool) {
	if tok == nil {
		return Identity{}, false
	}
	id, _ := tok.Extra("id").(string)
	return identityFromURL(id)
}

func identityFromURL(id string) (Identity, bool) {
	u, err := url.Parse(id)
	if err != nil {
		return Identity{}, false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "id" {
		return Identity{}, false
	}
	org, user := parts[len(parts)-2], parts[len(parts)-1]
	if org == "" || user == "" {
		return Identity{}, false
	}
	return Identity{OrgID: org, UserID: user, IdentityURL: id}, true
}

// Identity asks /services/oauth2/userinfo who the session is.
func (c *Client) Identity(ctx context.Context) (Identity, error) {
	var ui struct {
		Sub       string `json:"sub"`
		UserID    string `json:"user_id"`
		OrgID     string `json:"organization_id"`
		Username  string `json:"preferred_username"`
		UserName2 string `json:"username"`
	}
	if _, err := c.doJSON(ctx, KindOAuth, http.MethodGet, userinfoPath, nil, &ui); err != nil {
		return Identity{}, fmt.Errorf("salesforce: userinfo: %w", err)
	}
	id := Identity{OrgID: ui.OrgID, UserID: ui.UserID, Username: ui.Username, IdentityURL: ui.Sub}
	if id.Username == "" {
		id.Username = ui.UserName2
	}
	if from, ok := identityFromURL(ui.Sub); ok {
		if id.OrgID == "" {
			id.OrgID = from.OrgID
		}
		if id.UserID == "" {
			id.UserID = from.UserID
		}
	}
	if id.OrgID == "" || id.UserID == "" {
		return Identity{}, errors.New("salesforce: userinfo names no organization or user")
	}
	return id, nil
}

// Revoke revokes token (an access or refresh token; revoking a refresh
// token also ends its access tokens). Empty token means the session's
// access token. The token travels in a POST form, never in a URL.
func (c *Client) Revoke(ctx context.Context, token string) error {
	if token == "" {
		if t, _ := c.current(); t != nil {
			token = t.AccessToken
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.loginURL+revokePath,
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("salesforce: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("salesforce: revoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	ae := &AuthError{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode)}
	if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
		ae.Code, ae.Description = oe.Error, oe.Description
	}
	return ae
}
