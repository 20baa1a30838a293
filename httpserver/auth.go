package httpserver

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/forcesync/forcesync"
)

// caller is who presented a request's bearer token.
type caller struct {
	server bool   // the server's token: every route, every source
	source string // a source's own token: that source's routes only
}

// identify compares the bearer token with the server's token and with each
// source's token, in constant time per comparison. ok is false when the
// token matches none.
func (s *Server) identify(r *http.Request) (c caller, ok bool) {
	// The scheme is case-insensitive (RFC 7235 §2.1): some clients send
	// "bearer".
	scheme, got, has := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	got = strings.TrimSpace(got)
	if !has || !strings.EqualFold(scheme, "Bearer") || got == "" {
		return caller{}, false
	}
	if equalToken(got, s.cfg.APIToken) {
		return caller{server: true}, true
	}
	for src, tok := range s.cfg.SourceTokens {
		if equalToken(got, tok) {
			return caller{source: src}, true
		}
	}
	return caller{}, false
}

func equalToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// authed wraps an /api/ handler with the bearer token check: the server's
// token opens every route; a source's token (sources[].api_token) opens the
// routes of that source only, and is refused with 403 elsewhere, so one
// application cannot write another's records. An unknown token is a 401.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.identify(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="forcesync"`)
			writeError(w, &forcesync.Error{Code: forcesync.EUnauthorized, Message: "missing or wrong API token"})
			return
		}
		if c.server {
			h(w, r)
			return
		}
		switch want := r.PathValue("source"); {
		case want == c.source:
			h(w, r)
		case want == "":
			writeError(w, forcesync.Errorf(forcesync.EForbidden, "the token of source %s only opens that source's routes; this one needs the server's api_token", c.source))
		default:
			writeError(w, forcesync.Errorf(forcesync.EForbidden, "the token of source %s cannot be used for source %s", c.source, want))
		}
	}
}
