package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"golang.org/x/crypto/bcrypt"
)

// cookieName names the session cookie. With Secure it takes the __Host-
// prefix, which browsers accept only from a secure origin, for the whole
// host and without a Domain, so no sibling subdomain can plant one.
func (c *Console) cookieName(r *http.Request) string {
	if c.secure(r) {
		return "__Host-forcesync_session"
	}
	return "forcesync_session"
}

// secure reports whether cookies get the Secure flag: always over TLS,
// and when Config.Secure says a TLS proxy stands in front.
func (c *Console) secure(r *http.Request) bool { return c.cfg.Secure || r.TLS != nil }

// sessionID is what the store keeps of a token: its SHA-256, so a copy
// of the database cannot be replayed as a cookie.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type userKey struct{}

// user returns the signed-in admin of a request that passed authed.
func user(r *http.Request) string { s, _ := r.Context().Value(userKey{}).(string); return s }

// authed lets only signed-in admins through; others go to the sign-in
// page, which brings them back where they were going.
func (c *Console) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(c.cookieName(r)); err == nil && ck.Value != "" {
			ses, err := c.cfg.Sessions.Session(r.Context(), sessionID(ck.Value), c.cfg.Now())
			if err != nil && forcesync.ErrorCode(err) != forcesync.ENotFound {
				c.serverError(w, r, err)
				return
			}
			if err == nil {
				ok, err := c.isAdmin(r.Context(), ses.User) // admins.go
				if err != nil {
					c.serverError(w, r, err)
					return
				}
				if ok {
					h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, ses.User)))
					return
				}
			}
		}
		if r.Method != http.MethodGet {
			c.render(w, r, http.StatusUnauthorized, "error.html", &pageData{Title: "Signed out",
				Message: "Your session has ended. Sign in again and repeat the action."})
			return
		}
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	}
}

// safeNext keeps a post-sign-in destination on this site. Browsers drop
// tabs and newlines from a URL and read a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would leave the site: a
// destination holding a control character is refused too (the console's
// own links never hold one unescaped).
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}

func (c *Console) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login.html", c.loginPage(r, safeNext(r.URL.Query().Get("next"))))
}

// dummyHash is compared against when the username is unknown, so a wrong
// name costs as much time as a wrong password and names cannot be probed.
// Made once, when the first console is built (New), not at package init:
// bcrypt's cost would otherwise be paid by every forcesync command.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("forcesync: no such admin"), bcrypt.DefaultCost)
	return h
})

func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "error.html", &pageData{Title: "Bad request", Message: "The form could not be read."})
		return
	}
	name, pass := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	now := c.cfg.Now()
	keys := []string{"ip:" + clientIP(r), "user:" + strings.ToLower(name)}
	if wait := c.limiter.blocked(keys, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		d := c.loginPage(r, next)
		d.Username, d.Error = name, "Too many failed sign-ins. Wait "+wait.Round(time.Second).String()+" and try again."
		c.render(w, r, http.StatusTooManyRequests, "login.html", d)
		return
	}
	stored, known, err := c.passwordHash(r.Context(), name) // admins.go: the config's, else the store's
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	hash := dummyHash()
	if known {
		hash = []byte(stored)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !known {
		c.limiter.fail(keys, now)
		c.cfg.Logger.Warn("console: failed sign-in", "username", name, "client", clientIP(r))
		d := c.loginPage(r, next)
		d.Username, d.Error = name, "Wrong username or password."
		c.render(w, r, http.StatusUnauthorized, "login.html", d)
		return
	}
	c.limiter.reset(keys)
	if err := c.startSession(w, r, name); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: signed in", "username", name)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// loginPage is the sign-in page's data: the password form when any
// password admin may exist, the OIDC button when configured.
func (c *Console) loginPage(r *http.Request, next string) *pageData {
	lp := loginPage{Passwords: len(c.cfg.Admins) > 0 || c.storeHasAdmins(r.Context())}
	d := &pageData{Title: "Sign in", Next: next, NoAdmins: !lp.Passwords && c.oidc == nil}
	if c.oidc != nil {
		lp.OIDCName = c.oidc.cfg.Name
		lp.OIDCStart = "/login/oidc?" + url.Values{"next": {next}}.Encode()
	}
	d.Page = lp
	return d
}

// loginPage is the sign-in page's own part.
type loginPage struct {
	Passwords           bool
	OIDCName, OIDCStart string
}

// startSession signs name in: a session in the store, its token in the
// cookie.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, name string) error {
	now := c.cfg.Now()
	token, err := newToken()
	if err != nil {
		return err
	}
	ses := forcesync.Session{ID: sessionID(token), User: name, Created: now, Expires: now.Add(c.cfg.SessionTTL)}
	if err := c.cfg.Sessions.CreateSession(r.Context(), ses); err != nil {
		return err
	}
	// Housekeeping: a sign-in is rare enough to sweep expired sessions.
	if _, err := c.cfg.Sessions.DeleteExpiredSessions(r.Context(), now); err != nil {
		c.cfg.Logger.Warn("console: sweeping expired sessions", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: token, Path: "/", Expires: ses.Expires,
		MaxAge: int(c.cfg.SessionTTL.Seconds()), HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	return nil
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(c.cookieName(r)); err == nil {
		if err := c.cfg.Sessions.DeleteSession(r.Context(), sessionID(ck.Value)); err != nil {
			c.serverError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// clientIP is the peer's address. Forwarded headers are not trusted: a
// proxy in front would make every client one key, which only makes the
// limit stricter.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts failed sign-ins per key in a fixed window. It is kept in
// memory: each replica limits on its own.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	fails  map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, fails: map[string]*failWindow{}}
}

// blocked returns how long the longest-blocked key must still wait, or 0.
func (l *limiter) blocked(keys []string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		f := l.fails[k]
		if f == nil || now.Sub(f.start) >= l.window {
			continue
		}
		if f.n >= l.limit {
			wait = max(wait, f.start.Add(l.window).Sub(now))
		}
	}
	return wait
}

func (l *limiter) fail(keys []string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100_000 { // bound memory under a flood: forget old windows
		for k, f := range l.fails {
			if now.Sub(f.start) >= l.window {
				delete(l.fails, k)
			}
		}
	}
	for _, k := range keys {
		f := l.fails[k]
		if f == nil || now.Sub(f.start) >= l.window {
			f = &failWindow{start: now}
			l.fails[k] = f
		}
		f.n++
	}
}

func (l *limiter) reset(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.fails, k)
	}
}
