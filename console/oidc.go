package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/forcesync/forcesync"
	"golang.org/x/oauth2"
)

// OIDC is sign-in through an OpenID Connect provider (Salesforce, Google,
// Okta, Entra ID...). The flow is the authorization-code flow with a
// nonce, a state bound to the browser by a cookie, and PKCE unless turned
// off; the id_token is verified with github.com/coreos/go-oidc (signature
// against the provider's JWKS, issuer, audience, expiry), and only a
// verified email that AllowedEmails or AllowedDomains lists signs in. The
// session's user is that email.
type OIDC struct {
	// Name is the provider's name on the button ("Sign in with Name").
	Name string
	// Issuer is the provider's issuer URL (discovery at
	// Issuer/.well-known/openid-configuration).
	Issuer       string
	ClientID     string
	ClientSecret string
	// AllowedEmails (exact, lower case) and AllowedDomains (the part
	// after @, lower case) say who may sign in.
	AllowedEmails  []string
	AllowedDomains []string
	// PKCE sends an S256 code challenge.
	PKCE bool
	// HTTPClient talks to the provider; nil means a client that gives up
	// after 30 seconds.
	HTTPClient *http.Client
}

// oidcClient is the console's relying party: the provider, discovered on
// first use and kept once found (serve starts even while the provider is
// down).
type oidcClient struct {
	cfg    *OIDC
	mu     sync.Mutex
	prov   *oidc.Provider
	client *http.Client
	starts *limiter // sign-ins started per client address
}

func newOIDCClient(cfg *OIDC, limit int, window time.Duration) (*oidcClient, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, forcesync.Errorf(forcesync.EInvalid, "console: oidc needs an issuer and a client id")
	}
	if len(cfg.AllowedEmails) == 0 && len(cfg.AllowedDomains) == 0 {
		return nil, forcesync.Errorf(forcesync.EInvalid, "console: oidc needs allowed emails or domains")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &oidcClient{cfg: cfg, client: client, starts: newLimiter(limit, window)}, nil
}

// allowed reports whether email may sign in through OIDC.
func (o *oidcClient) allowed(email string) bool {
	email = strings.ToLower(email)
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return false
	}
	return slices.Contains(o.cfg.AllowedEmails, email) || slices.Contains(o.cfg.AllowedDomains, email[at+1:])
}

func (o *oidcClient) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.client)
}

// provider discovers the provider once. Its key set fetches keys with the
// context given here, so it gets one that outlives the request.
func (o *oidcClient) provider() (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.prov != nil {
		return o.prov, nil
	}
	p, err := oidc.NewProvider(o.ctx(context.Background()), o.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	o.prov = p
	return p, nil
}

func (o *oidcClient) oauth2(p *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// oidcFlow is a sign-in on its way through the provider (flows.go).
type oidcFlow struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier,omitempty"`
	Next     string `json:"next"`
	Redirect string `json:"redirect_uri"`
	// Browser is the SHA-256 of the cookie set when the flow started: the
	// callback must come back to the same browser (no login CSRF).
	Browser string `json:"browser"`
}

const oidcCookie = "forcesync_oidc"

// oidcRedirect is this console's OIDC callback URL as the browser sees it;
// the provider's client must list it.
func (c *Console) oidcRedirect(r *http.Request) string {
	scheme := "http"
	if c.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/login/oidc/callback"
}

// handleOIDCStart is GET /login/oidc: it keeps a pending flow and sends
// the browser to the provider. A GET (a link from the sign-in page), so
// the CSP's form-action 'self' holds; it changes nothing but a pending
// flow that expires in ten minutes, and is rate-limited per address.
func (c *Console) handleOIDCStart(w http.ResponseWriter, r *http.Request) {
	if c.oidc == nil {
		c.handleNotFound(w, r)
		return
	}
	now := c.cfg.Now()
	keys := []string{"ip:" + clientIP(r)}
	if wait := c.oidc.starts.blocked(keys, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		c.oidcFailed(w, r, http.StatusTooManyRequests, "Too many sign-ins started from here. Wait "+wait.Round(time.Second).String()+" and try again.")
		return
	}
	c.oidc.starts.fail(keys, now) // every start counts
	p, err := c.oidc.provider()
	if err != nil {
		c.cfg.Logger.Error("console: oidc discovery failed", "issuer", c.oidc.cfg.Issuer, "err", err)
		c.oidcFailed(w, r, http.StatusBadGateway, "forcesync could not reach "+c.oidc.cfg.Name+". Try again later.")
		return
	}
	browser, err := newToken()
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	state, err := newToken()
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	nonce, err := newToken()
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	f := &oidcFlow{Nonce: nonce, Next: safeNext(r.URL.Query().Get("next")), Redirect: c.oidcRedirect(r), Browser: hashHex(browser)}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce)}
	if c.oidc.cfg.PKCE {
		f.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(f.Verifier))
	}
	if err := c.putFlow(r.Context(), flowOIDC, state, f); err != nil {
		c.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: browser, Path: "/login/oidc", MaxAge: int(flowTTL.Seconds()),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, c.oidc.oauth2(p, f.Redirect).AuthCodeURL(state, opts...), http.StatusFound)
}

// handleOIDCCallback is GET /login/oidc/callback: the provider sent the
// browser back. The code is exchanged (with the PKCE verifier), the
// id_token verified, its nonce checked, and an allowed, verified email
// signed in.
func (c *Console) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if c.oidc == nil {
		c.handleNotFound(w, r)
		return
	}
	q := r.URL.Query()
	var f oidcFlow
	err := c.takeFlow(r.Context(), flowOIDC, q.Get("state"), &f)
	if err != nil && forcesync.ErrorCode(err) != forcesync.ENotFound {
		c.cfg.Logger.Error("console: reading a pending sign-in", "err", err)
		c.oidcFailed(w, r, http.StatusInternalServerError, "The sign-in started here could not be read back: "+err.Error())
		return
	}
	ck, _ := r.Cookie(oidcCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/login/oidc", MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	if err != nil || ck == nil || subtle.ConstantTimeCompare([]byte(hashHex(ck.Value)), []byte(f.Browser)) != 1 {
		c.oidcFailed(w, r, http.StatusBadRequest, "This answer matches no sign-in started in this browser in the last 10 minutes. Start again.")
		return
	}
	if e := q.Get("error"); e != "" {
		c.cfg.Logger.Warn("console: oidc sign-in refused by the provider", "error", e, "description", q.Get("error_description"))
		c.oidcFailed(w, r, http.StatusUnauthorized, c.oidc.cfg.Name+" refused the sign-in: "+e+" "+q.Get("error_description"))
		return
	}
	email, err := c.oidcEmail(r.Context(), q.Get("code"), &f)
	if err != nil {
		c.cfg.Logger.Warn("console: oidc sign-in failed", "err", err)
		c.oidcFailed(w, r, http.StatusUnauthorized, "Signing in with "+c.oidc.cfg.Name+" failed: "+err.Error())
		return
	}
	if !c.oidc.allowed(email) {
		c.cfg.Logger.Warn("console: oidc sign-in of an email not allowed", "email", email, "client", clientIP(r))
		c.oidcFailed(w, r, http.StatusForbidden, email+" is not allowed to use this console. Ask an admin to add it to console.oidc.")
		return
	}
	if err := c.startSession(w, r, email); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: signed in", "username", email, "via", "oidc")
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// oidcEmail exchanges code and returns the user's verified email, from
// the verified id_token or, when it carries none, from userinfo for the
// same subject.
func (c *Console) oidcEmail(ctx context.Context, code string, f *oidcFlow) (string, error) {
	if code == "" {
		return "", fmt.Errorf("no authorization code")
	}
	p, err := c.oidc.provider()
	if err != nil {
		return "", err
	}
	ctx = c.oidc.ctx(ctx)
	var opts []oauth2.AuthCodeOption
	if f.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(f.Verifier))
	}
	oc := c.oidc.oauth2(p, f.Redirect)
	tok, err := oc.Exchange(ctx, code, opts...)
	if err != nil {
		return "", fmt.Errorf("exchanging the code: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", fmt.Errorf("the provider sent no id_token (is the openid scope allowed for this client?)")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: c.oidc.cfg.ClientID, Now: c.cfg.Now}).Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("the id_token does not verify: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return "", fmt.Errorf("the id_token's nonce is not this sign-in's")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return "", fmt.Errorf("the id_token does not match the access token: %w", err)
		}
	}
	var cl struct {
		Email    string `json:"email"`
		Verified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&cl); err != nil {
		return "", err
	}
	if cl.Email == "" || cl.Verified == nil {
		ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return "", fmt.Errorf("reading userinfo: %w", err)
		}
		if ui.Subject != idt.Subject {
			return "", fmt.Errorf("userinfo is about another subject than the id_token")
		}
		v := ui.EmailVerified
		cl.Email, cl.Verified = ui.Email, &v
	}
	if cl.Email == "" {
		return "", fmt.Errorf("the provider shares no email (is the email scope allowed?)")
	}
	if !*cl.Verified {
		return "", fmt.Errorf("the provider has not verified %s", cl.Email)
	}
	return strings.ToLower(cl.Email), nil
}

func (c *Console) oidcFailed(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d := c.loginPage(r, "/")
	d.Error = msg
	c.render(w, r, status, "login.html", d)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
