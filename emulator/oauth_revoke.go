package emulator

import (
	"net/http"
	"strings"
)

// serveRevoke is POST /services/oauth2/revoke (token= in the form) and GET
// with ?token=. Revoking an access token ends that session; revoking a
// refresh token also ends every access token it minted. Success is 200 with
// an empty body.
func (e *Emulator) serveRevoke(c *call) {
	if oe := parseOAuthForm(c.r); oe != nil {
		writeOAuthError(c.w, oe)
		return
	}
	tok := c.r.Form.Get("token")
	if tok == "" {
		writeOAuthError(c.w, &oauthError{"unsupported_token_type", "missing token", http.StatusBadRequest})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.sessions[tok]; ok {
		delete(e.sessions, tok)
		c.w.WriteHeader(http.StatusOK)
		return
	}
	if _, ok := e.refresh[tok]; ok {
		delete(e.refresh, tok)
		for k, s := range e.sessions {
			if s.RefreshToken == tok {
				delete(e.sessions, k)
			}
		}
		c.w.WriteHeader(http.StatusOK)
		return
	}
	writeOAuthError(c.w, &oauthError{"invalid_token", "invalid token", http.StatusBadRequest})
}

// introspection is the body of POST /services/oauth2/introspect for a live token.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	Sub       string `json:"sub,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Nbf       int64  `json:"nbf,omitempty"`
}

// serveIntrospect is POST /services/oauth2/introspect (RFC 7662). The caller
// authenticates as a connected app (form or HTTP Basic); any token of the
// org can be inspected. Unknown, revoked and expired tokens are {"active":false}.
func (e *Emulator) serveIntrospect(c *call) {
	if oe := parseOAuthForm(c.r); oe != nil {
		writeOAuthError(c.w, oe)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, oe := e.authClientLocked(c.r, true); oe != nil {
		oe.status = http.StatusUnauthorized
		writeOAuthError(c.w, oe)
		return
	}
	tok := c.r.Form.Get("token")
	hint := c.r.Form.Get("token_type_hint")
	now := e.now()
	if s, ok := e.sessions[tok]; ok && hint != "refresh_token" {
		if now.Sub(s.LastUsed) > e.sessionTimeout() {
			delete(e.sessions, tok)
		} else {
			writeOAuthJSON(c.w, http.StatusOK, introspection{
				Active:    true,
				Scope:     strings.Join(s.Scopes, " "),
				ClientID:  s.ClientID,
				Username:  s.Username,
				Sub:       e.identityURL(c.r, s.UserID),
				TokenType: "access_token",
				Exp:       s.LastUsed.Add(e.sessionTimeout()).Unix(),
				Iat:       s.Issued.Unix(),
				Nbf:       s.Issued.Unix(),
			})
			return
		}
	}
	if g, ok := e.refresh[tok]; ok && hint != "access_token" {
		writeOAuthJSON(c.w, http.StatusOK, introspection{
			Active:    true,
			Scope:     strings.Join(g.Scopes, " "),
			ClientID:  g.ClientID,
			Username:  g.Username,
			Sub:       e.identityURL(c.r, g.UserID),
			TokenType: "refresh_token",
			Iat:       g.Issued.Unix(),
			Nbf:       g.Issued.Unix(),
		})
		return
	}
	writeOAuthJSON(c.w, http.StatusOK, introspection{Active: false})
}
