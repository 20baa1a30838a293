package engine

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/forcesync/forcesync/salesforce"
)

// outageAfter is how many exchanges in a row must fail without an answer
// (or with a 5xx) before the org counts as unreachable. One dropped
// connection is a fault the retries absorb, not an outage.
const outageAfter = 3

// Health follows whether one org answers and whether forcesync can log in
// to it, from the client's own calls: it makes no call of its own. It logs
// the start and end of an outage (salesforce.outage_start,
// salesforce.outage_end), every new token after the first
// (salesforce.relogin), and login failures (salesforce.login_failed,
// salesforce.token_revoked). /healthz and forcesync_salesforce_up read
// Status. Safe for concurrent use.
type Health struct {
	connection string
	logger     *slog.Logger
	now        func() time.Time

	mu          sync.Mutex
	failures    int       // exchanges failed in a row
	outageSince time.Time // zero when the org answers
	lastFailure string
	tokens      int
	loginErr    string
	loginSince  time.Time
}

// HealthStatus is the state of one connection.
type HealthStatus struct {
	Connection string `json:"connection"`
	// OK is false during an outage or while login fails.
	OK bool `json:"ok"`
	// Reason says what is wrong ("" when OK).
	Reason string `json:"reason,omitempty"`
	// Since is when it went wrong.
	Since time.Time `json:"since,omitzero"`
}

// NewHealth returns the health of connection. now may be nil.
func NewHealth(connection string, logger *slog.Logger, now func() time.Time) *Health {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Health{connection: connection, logger: logger, now: now}
}

// ObserveCall is meant for salesforce.Hooks.OnCall.
func (h *Health) ObserveCall(info salesforce.CallInfo) {
	if errors.Is(info.Err, context.Canceled) {
		return // forcesync stopped waiting: says nothing about the org
	}
	failed := info.Status == 0 || info.Status >= 500
	h.mu.Lock()
	defer h.mu.Unlock()
	if failed {
		h.failures++
		h.lastFailure = describeFailure(info)
		if h.failures == outageAfter {
			h.outageSince = h.now()
			h.logger.Error("Salesforce unreachable", "event", "salesforce.outage_start", "connection", h.connection,
				"failures", h.failures, "last_error", h.lastFailure)
		}
		return
	}
	if !h.outageSince.IsZero() {
		h.logger.Info("Salesforce answers again", "event", "salesforce.outage_end", "connection", h.connection,
			"failures", h.failures, "lasted", h.now().Sub(h.outageSince).Round(time.Millisecond).String())
	}
	h.failures, h.outageSince = 0, time.Time{}
	if info.Kind == salesforce.KindOAuth && info.Status >= 400 && info.Status < 500 && h.loginErr == "" {
		// The answer's body (the OAuth error code) is not seen here; the
		// engine reports it through LoginFailed, which is more precise, so
		// this only fills in when nothing better is known.
		h.failLoginLocked("salesforce.login_failed", "the token endpoint answered "+httpStatus(info.Status))
	}
}

// ObserveToken is meant for salesforce.Hooks.OnToken: a new token means
// login works.
func (h *Health) ObserveToken() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tokens++
	if h.tokens > 1 {
		h.logger.Info("new Salesforce session", "event", "salesforce.relogin", "connection", h.connection, "sessions", h.tokens)
	}
	if h.loginErr != "" {
		h.logger.Info("login works again", "event", "salesforce.login_ok", "connection", h.connection,
			"failed_for", h.now().Sub(h.loginSince).Round(time.Millisecond).String())
	}
	h.loginErr, h.loginSince = "", time.Time{}
}

// LoginFailed records a failed login or token renewal (a revoked refresh
// token, a locked user, a deleted connected app): code is the OAuth error
// code (invalid_grant), msg the salesforce.AuthError's text, which holds
// the code and Salesforce's description, never a token.
func (h *Health) LoginFailed(code, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if code == "invalid_grant" {
		h.failLoginLocked("salesforce.token_revoked", "Salesforce refused the refresh token or grant ("+msg+"); log in again (forcesync login)")
		return
	}
	h.failLoginLocked("salesforce.login_failed", msg)
}

// failLoginLocked records a login failure; a new reason is logged as event.
func (h *Health) failLoginLocked(event, why string) {
	if h.loginErr == "" {
		h.loginSince = h.now()
	}
	if h.loginErr != why {
		h.logger.Error("Salesforce login failed", "event", event, "connection", h.connection, "reason", why)
	}
	h.loginErr = why
}

// Status returns the connection's state now.
func (h *Health) Status() HealthStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := HealthStatus{Connection: h.connection, OK: true}
	switch {
	case h.loginErr != "":
		st.OK, st.Reason, st.Since = false, "login fails: "+h.loginErr, h.loginSince
	case !h.outageSince.IsZero():
		st.OK, st.Reason, st.Since = false, "Salesforce unreachable: "+h.lastFailure, h.outageSince
	}
	return st
}

func describeFailure(info salesforce.CallInfo) string {
	if info.Status > 0 {
		return info.Method + " " + info.Path + " answered " + httpStatus(info.Status)
	}
	msg := "no answer"
	if info.Err != nil {
		// A *url.Error names the whole URL, query string included, which
		// may carry data: keep only what went wrong.
		err := info.Err
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		msg = err.Error()
	}
	return info.Method + " " + info.Path + ": " + msg
}

func httpStatus(code int) string { return strconv.Itoa(code) }
