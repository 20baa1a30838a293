package config_test

import (
	"strings"
	"testing"

	"github.com/forcesync/forcesync/config"
)

func TestConsoleOIDC(t *testing.T) {
	text := minimal + `console:
  oidc:
    name: Salesforce
    issuer: https://login.salesforce.com
    client_id: 3MVG9abc
    client_secret_env: OIDC_SECRET
    allowed_domains: ['@Example.com']
    allowed_emails: [Ada@Elsewhere.org]
`
	cfg, err := config.Parse([]byte(text), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(func(k string) string { return map[string]string{"OIDC_SECRET": "shh", "SF_SECRET": "x"}[k] }); err != nil {
		t.Fatal(err)
	}
	o := cfg.Console.OIDC
	if o == nil || o.Name != "Salesforce" || o.Issuer != "https://login.salesforce.com" || o.ClientID != "3MVG9abc" ||
		o.ClientSecret != "shh" || !o.PKCE || len(o.AllowedDomains) != 1 || o.AllowedDomains[0] != "example.com" ||
		len(o.AllowedEmails) != 1 || o.AllowedEmails[0] != "ada@elsewhere.org" {
		t.Fatalf("oidc = %+v", o)
	}
	// The secret is optional (PKCE), and unset it is no error.
	cfg, err = config.Parse([]byte(minimal+"console:\n  oidc:\n    issuer: http://127.0.0.1:9/x\n    client_id: c\n    allowed_emails: a@b.co\n"), "f.yaml")
	if err != nil || cfg.Console.OIDC.ClientSecret != "" || cfg.Console.OIDC.Name != "OpenID Connect" {
		t.Fatalf("minimal oidc: %+v, %v", cfg.Console.OIDC, err)
	}
}

func TestConsoleOIDCRefusals(t *testing.T) {
	base := "console:\n  oidc:\n"
	for _, tc := range []struct{ yaml, want string }{
		{base + "    issuer: https://i.example\n    client_id: c\n", "allowed_emails or allowed_domains is required"},
		{base + "    client_id: c\n    allowed_emails: a@b.co\n", "console.oidc: issuer is required"},
		{base + "    issuer: https://i.example\n    allowed_emails: a@b.co\n", "client_id is required"},
		{base + "    issuer: http://idp.example\n    client_id: c\n    allowed_emails: a@b.co\n", "console.oidc.issuer: \"http://idp.example\": want an https://"},
		{base + "    issuer: https://i.example\n    client_id: c\n    client_secret: plain\n    allowed_emails: a@b.co\n", "console.oidc.client_secret: must be an environment reference"},
		{base + "    issuer: https://i.example\n    client_id: c\n    allowed_emails: nobody\n", "\"nobody\" is not an email address"},
		{base + "    issuer: https://i.example\n    client_id: c\n    allowed_domains: ['*.example.com']\n", "is not a domain"},
		{base + "    issuer: https://i.example\n    client_id: c\n    allowed_emails: a@b.co\n    pkce: false\n", "pkce: false needs client_secret"},
		{base + "    issuer: https://i.example\n    client_id: c\n    allowed_emails: a@b.co\n    scopes: [openid]\n", "console.oidc.scopes: unknown key"},
	} {
		_, err := config.Parse([]byte(minimal+tc.yaml), "forcesync.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}
