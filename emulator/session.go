package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// Session is a live access token.
type Session struct {
	Token    string
	ClientID string
	UserID   string // 18-char User Id
	Username string
	Scopes   []string
	Issued   time.Time
	LastUsed time.Time
	// RefreshToken is the refresh token that minted this session, if any;
	// revoking it revokes the session too.
	RefreshToken string
}

// refreshGrant is what a refresh token renews.
type refreshGrant struct {
	ClientID string
	UserID   string
	Username string
	Scopes   []string
	// PKCE is set when the grant came from a code bound to a PKCE verifier:
	// refreshing it then needs no client secret.
	PKCE   bool
	Issued time.Time
}

// authCode is a pending authorization code of the web-server flow.
type authCode struct {
	ClientID            string
	UserID              string
	Username            string
	RedirectURI         string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	// Nonce is the OpenID Connect nonce of the authorize request, put
	// back in the id_token as it came.
	Nonce   string
	Expires time.Time
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// bearerToken extracts the access token from "Authorization: Bearer x"
// (also "OAuth x", which older clients send).
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return strings.TrimSpace(h[len(p):])
		}
	}
	return ""
}

// authenticate finds the live session of the request's bearer token and
// renews its inactivity timer. Expired sessions are removed.
func (e *Emulator) authenticate(r *http.Request) (*Session, bool) {
	return e.authenticateToken(bearerToken(r))
}

// authenticateToken is authenticate for a token found elsewhere (the identity
// URL also takes ?oauth_token=).
func (e *Emulator) authenticateToken(tok string) (*Session, bool) {
	if tok == "" {
		return nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.sessions[tok]
	if !ok {
		return nil, false
	}
	now := e.now()
	if now.Sub(s.LastUsed) > e.sessionTimeout() {
		delete(e.sessions, tok)
		return nil, false
	}
	s.LastUsed = now
	return s, true
}

func (e *Emulator) sessionTimeout() time.Duration {
	if e.cfg.SessionTimeout > 0 {
		return e.cfg.SessionTimeout
	}
	return 2 * time.Hour
}

// newSessionLocked mints an access token for a user of the org. The token
// looks like Salesforce's: the 15-character org Id, '!', opaque text.
func (e *Emulator) newSessionLocked(clientID, userID, username string, scopes []string, refreshToken string) *Session {
	now := e.now()
	s := &Session{
		Token:        e.orgID()[:15] + "!" + randomToken(48),
		ClientID:     clientID,
		UserID:       userID,
		Username:     username,
		Scopes:       scopes,
		Issued:       now,
		LastUsed:     now,
		RefreshToken: refreshToken,
	}
	e.sessions[s.Token] = s
	if len(e.sessions)%1024 == 0 {
		// Clients that log in for every run never come back for their old
		// tokens; sweep the idle ones so the map does not grow without end.
		for tok, old := range e.sessions {
			if now.Sub(old.LastUsed) > e.sessionTimeout() {
				delete(e.sessions, tok)
			}
		}
	}
	return s
}

// ExpireSessions ends every access token (refresh tokens stay valid), so the
// next call of every client answers 401 INVALID_SESSION_ID.
func (e *Emulator) ExpireSessions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.sessions)
}
