package config_test

import (
	"strings"
	"testing"

	"github.com/forcesync/forcesync/config"
)

// TestSourceTokensMustDiffer checks Resolve refuses a token shared by two
// sources, or by a source and the server: the token would not say which
// source the caller may write.
func TestSourceTokensMustDiffer(t *testing.T) {
	const file = `
server:
  api_token_env: SERVER_TOKEN
sources:
  - name: a
    api_token_env: A_TOKEN
  - name: b
    api_token_env: B_TOKEN
`
	for _, tc := range []struct {
		vars env
		want string
	}{
		{env{"SERVER_TOKEN": "s", "A_TOKEN": "a", "B_TOKEN": "b"}, ""},
		{env{"SERVER_TOKEN": "s", "A_TOKEN": "x", "B_TOKEN": "x"}, "f.yaml: sources[1].api_token: source b has the same token as sources[0].api_token (a)"},
		{env{"SERVER_TOKEN": "s", "A_TOKEN": "s", "B_TOKEN": "b"}, "f.yaml: sources[0].api_token: source a has the same token as server.api_token"},
	} {
		cfg, err := config.Parse([]byte(file), "f.yaml")
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Resolve(tc.vars.get)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.vars, err, tc.want)
		}
	}
}

// TestSCIMTokenMustDiffer: the SCIM token shared with a source's token
// would let the identity provider write that source through the REST API,
// and shared with the server's it would open every route; both are refused.
func TestSCIMTokenMustDiffer(t *testing.T) {
	const file = `
server:
  api_token_env: SERVER_TOKEN
scim:
  source: idp
  token_env: SCIM_TOKEN
sources:
  - name: idp
    api_token_env: IDP_TOKEN
  - name: lead
    api_token_env: LEAD_TOKEN
`
	for _, tc := range []struct {
		vars env
		want string
	}{
		{env{"SERVER_TOKEN": "s", "SCIM_TOKEN": "i", "IDP_TOKEN": "p", "LEAD_TOKEN": "l"}, ""},
		{env{"SERVER_TOKEN": "s", "SCIM_TOKEN": "l", "IDP_TOKEN": "p", "LEAD_TOKEN": "l"}, "f.yaml: scim.token: the SCIM token is the same as sources[1].api_token (lead)"},
		{env{"SERVER_TOKEN": "s", "SCIM_TOKEN": "p", "IDP_TOKEN": "p", "LEAD_TOKEN": "l"}, "f.yaml: scim.token: the SCIM token is the same as sources[0].api_token (idp)"},
		{env{"SERVER_TOKEN": "s", "SCIM_TOKEN": "s", "IDP_TOKEN": "p", "LEAD_TOKEN": "l"}, "f.yaml: scim.token: the SCIM token is the same as server.api_token"},
	} {
		cfg, err := config.Parse([]byte(file), "f.yaml")
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.Resolve(tc.vars.get)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want %q", tc.vars, err, tc.want)
		}
	}
}
