package config

import (
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// Console is the admin console's settings (served under / by serve).
type Console struct {
	// Admins may sign in to the console. None turns the console's pages
	// off (serve then answers them 404 with a note on how to add one).
	Admins []Admin
	// SessionTTL is how long a sign-in lasts; default 12h.
	SessionTTL time.Duration
	// OIDC, when set, adds sign-in through an OpenID Connect provider
	// (config/oidc.go).
	OIDC *OIDC
}

// Admin is one console user.
type Admin struct {
	Username string
	// PasswordHash is a bcrypt hash (forcesync admin hash-password makes
	// one). A hash is not the password, so it may sit in the file.
	PasswordHash string
}

// DefaultSessionTTL is how long a console sign-in lasts by default.
const DefaultSessionTTL = 12 * time.Hour

var adminNameRe = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,100}$`)

// AdminNameOK reports whether s is a valid admin username: 1 to 100
// letters, digits and . _ @ + - (the config's rule, also for the store's).
func AdminNameOK(s string) bool { return adminNameRe.MatchString(s) }

func (p *parser) console(n *yaml.Node, path string) {
	c := &p.cfg.Console
	p.object(n, path, map[string]func(*yaml.Node, string){
		"oidc": p.oidc, // config/oidc.go
		"session_ttl": func(v *yaml.Node, path string) {
			d, ok := p.duration(v, path)
			if ok && (d < time.Minute || d > 30*24*time.Hour) {
				p.errf(v, path, "must be from 1m to 720h")
				return
			}
			c.SessionTTL = d
		},
		"admins": func(v *yaml.Node, path string) {
			seen := map[string]bool{}
			p.list(v, path, func(i int, v *yaml.Node, path string) {
				var a Admin
				if !p.object(v, path, map[string]func(*yaml.Node, string){
					"username": func(v *yaml.Node, path string) {
						s, ok := p.nonEmpty(v, path)
						if !ok {
							return
						}
						if !adminNameRe.MatchString(s) {
							p.errf(v, path, "%q: use 1 to 100 letters, digits and . _ @ + -", s)
							return
						}
						if seen[s] {
							p.errf(v, path, "admin %q is listed twice", s)
						}
						seen[s] = true
						a.Username = s
					},
					"password_hash": func(v *yaml.Node, path string) {
						s, ok := p.nonEmpty(v, path)
						if !ok {
							return
						}
						if _, err := bcrypt.Cost([]byte(s)); err != nil {
							p.errf(v, path, "is not a bcrypt hash (make one with: forcesync admin hash-password)")
							return
						}
						a.PasswordHash = s
					},
				}) {
					return
				}
				if a.Username == "" {
					p.errf(v, path, "username is required")
				}
				if a.PasswordHash == "" {
					p.errf(v, path, "password_hash is required (make one with: forcesync admin hash-password)")
				}
				if a.Username != "" && a.PasswordHash != "" {
					c.Admins = append(c.Admins, a)
				}
			})
		},
	})
}
