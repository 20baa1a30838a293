package engine_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
)

// TestHealthOutageAndLogin: three exchanges in a row without an answer
// make an outage (one is a fault the retries absorb); an answer ends it; a
// refused refresh token makes login fail until a new token comes. The logs
// never carry a query string (which may hold data).
func TestHealthOutageAndLogin(t *testing.T) {
	var logs bytes.Buffer
	h := engine.NewHealth("org", slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	dropped := salesforce.CallInfo{Kind: salesforce.KindQuery, Method: "GET", Path: "/services/data/v65.0/query",
		Err: &url.Error{Op: "Get", URL: "http://x/services/data/v65.0/query?q=SELECT+Id+FROM+Lead+WHERE+Email='ada@example.com'", Err: errors.New("connection reset")}}
	h.ObserveCall(salesforce.CallInfo{Kind: salesforce.KindCollections, Method: "PATCH", Path: "/p", Status: 503})
	h.ObserveCall(dropped)
	if st := h.Status(); !st.OK {
		t.Fatalf("two failures are not an outage: %+v", st)
	}
	h.ObserveCall(dropped)
	st := h.Status()
	if st.OK || !strings.Contains(st.Reason, "unreachable") {
		t.Fatalf("after three: %+v", st)
	}
	h.ObserveCall(salesforce.CallInfo{Kind: salesforce.KindREST, Method: "GET", Path: "/limits", Status: 200})
	if st := h.Status(); !st.OK {
		t.Fatalf("an answer ends the outage: %+v", st)
	}
	h.LoginFailed("invalid_grant", "salesforce auth: invalid_grant: expired access/refresh token")
	if st := h.Status(); st.OK || !strings.Contains(st.Reason, "log in again") {
		t.Fatalf("revoked token: %+v", st)
	}
	h.ObserveToken()
	if st := h.Status(); !st.OK {
		t.Fatalf("a new token: %+v", st)
	}
	out := logs.String()
	for _, ev := range []string{"salesforce.outage_start", "salesforce.outage_end", "salesforce.token_revoked", "salesforce.login_ok"} {
		if !strings.Contains(out, `"event":"`+ev+`"`) {
			t.Errorf("no %s in\n%s", ev, out)
		}
	}
	if strings.Contains(out, "ada@example.com") || !strings.Contains(out, "connection reset") {
		t.Fatalf("a query string reached the logs:\n%s", out)
	}
}
