package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

const tokensConfig = `
server:
  api_token: ${TEST_API_TOKEN}
store:
  sqlite: fs.db
scim:
  source: idp_user
  token_env: TEST_SCIM_TOKEN
` + emulatorConnection + `
sources:
  - name: client
    api_token_env: CLIENT_TOKEN
  - name: partner
    api_token: ${PARTNER_TOKEN}
  - name: idp_user
    api_token_env: IDP_TOKEN
mappings:
  - name: clients_to_leads
    source: client
    object: Lead
    match:
      external_id: Forcesync_Key__c
    fields:
      - target: LastName
        source: last_name
        default: Undefined
      - target: Company
        value: Trading Clients
`

// TestServeSourceTokens checks sources[].api_token: a source's token writes
// and reads its own source only (403 elsewhere, naming both sources), the
// server's token opens every source, an unknown token is a 401; and on the
// SCIM door the SCIM source's own token and the server's token work while
// another source's token does not.
func TestServeSourceTokens(t *testing.T) {
	emu, sfURL := startEmulator(t, emulator.Config{})
	s := startServeWith(t, emu, fmt.Sprintf(tokensConfig, sfURL), map[string]string{
		"TEST_SCIM_TOKEN": "scim-token", "CLIENT_TOKEN": "client-token", "PARTNER_TOKEN": "partner-token", "IDP_TOKEN": "idp-src-token"})
	call := func(method, path, token, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	rec := `[{"key":"k1","fields":{"last_name":"Lee"}}]`
	for _, tc := range []struct {
		method, path, token string
		want                int
		says                string
	}{
		{"POST", "/api/v1/sources/client/records", "client-token", 202, ""},
		{"GET", "/api/v1/sources/client/records/k1", "client-token", 200, ""},
		{"POST", "/api/v1/sources/partner/records", "client-token", 403, "source client cannot be used for source partner"},
		{"GET", "/api/v1/sources/partner/records/k1", "client-token", 403, "source partner"},
		{"POST", "/api/v1/sources/partner/records", "partner-token", 202, ""},
		{"POST", "/api/v1/sources/client/records", "partner-token", 403, "source partner cannot be used for source client"},
		{"GET", "/api/v1/runs", "client-token", 403, "server's api_token"},
		{"POST", "/api/v1/mappings/clients_to_leads/retry", "client-token", 403, "server's api_token"},
		{"POST", "/api/v1/sources/client/records", "s3cret-token", 202, ""},
		{"POST", "/api/v1/sources/partner/records", "s3cret-token", 202, ""},
		{"GET", "/api/v1/runs", "s3cret-token", 200, ""},
		{"POST", "/api/v1/sources/client/records", "nobody", 401, "API token"},
		{"POST", "/api/v1/sources/client/records", "scim-token", 401, "API token"},
		{"GET", "/scim/v2/Users", "scim-token", 200, ""},
		{"GET", "/scim/v2/Users", "idp-src-token", 200, ""},
		{"GET", "/scim/v2/Users", "s3cret-token", 200, ""},
		{"GET", "/scim/v2/Users", "client-token", 401, "source idp_user"},
		{"GET", "/scim/v2/Users", "partner-token", 401, "source idp_user"},
	} {
		body := ""
		if tc.method == "POST" && strings.Contains(tc.path, "/records") {
			body = rec
		}
		code, got := call(tc.method, tc.path, tc.token, body)
		if code != tc.want || !strings.Contains(got, tc.says) {
			t.Errorf("%s %s with %s: %d %s, want %d saying %q", tc.method, tc.path, tc.token, code, got, tc.want, tc.says)
		}
	}
}
