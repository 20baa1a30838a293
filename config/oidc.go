package config

import (
	"net"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// OIDC is the console's optional sign-in through an OpenID Connect
// provider (console.oidc): Salesforce itself, Google, Okta, Entra ID...
//
//	console:
//	  oidc:
//	    name: Salesforce                 # the button says "Sign in with Salesforce"
//	    issuer: https://login.salesforce.com
//	    client_id: 3MVG9...
//	    client_secret_env: OIDC_CLIENT_SECRET   # optional with PKCE
//	    allowed_domains: [example.com]
//	    allowed_emails: [contractor@elsewhere.org]
//	    pkce: true                       # default true
type OIDC struct {
	// Name is the provider's name on the sign-in button; default "OpenID Connect".
	Name string
	// Issuer is the provider's issuer URL; its discovery document is
	// ISSUER/.well-known/openid-configuration and must name the same issuer.
	Issuer   string
	ClientID string
	// ClientSecret is a secret (${VAR} or client_secret_env); empty makes
	// forcesync a public client, which needs PKCE.
	ClientSecret string
	// AllowedEmails and AllowedDomains say who may sign in: a verified
	// email listed, or one at a listed domain. At least one is required.
	AllowedEmails  []string
	AllowedDomains []string
	// PKCE sends a code challenge (S256); default true.
	PKCE bool
}

func (p *parser) oidc(n *yaml.Node, path string) {
	o := &OIDC{Name: "OpenID Connect", PKCE: true}
	given := map[string]*yaml.Node{}
	keys := map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				if len(s) > 40 {
					p.errf(v, path, "at most 40 characters")
					return
				}
				o.Name = s
			}
		},
		"issuer": func(v *yaml.Node, path string) {
			s, ok := p.nonEmpty(v, path)
			if !ok {
				return
			}
			u, err := url.Parse(s)
			if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
				(u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
				p.errf(v, path, "%q: want an https:// issuer URL (http:// only on this machine)", s)
				return
			}
			o.Issuer = s
			given["issuer"] = v
		},
		"client_id": func(v *yaml.Node, path string) {
			if s, ok := p.nonEmpty(v, path); ok {
				o.ClientID = s
				given["client_id"] = v
			}
		},
		"allowed_emails": func(v *yaml.Node, path string) {
			list, ok := p.strs(v, path)
			if !ok {
				return
			}
			for _, e := range list {
				at := strings.LastIndexByte(e, '@')
				if at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t") {
					p.errf(v, path, "%q is not an email address", e)
					return
				}
				o.AllowedEmails = append(o.AllowedEmails, strings.ToLower(e))
			}
		},
		"allowed_domains": func(v *yaml.Node, path string) {
			list, ok := p.strs(v, path)
			if !ok {
				return
			}
			for _, d := range list {
				d = strings.ToLower(strings.TrimPrefix(d, "@"))
				if !strings.Contains(d, ".") || strings.ContainsAny(d, "@/ \t*") {
					p.errf(v, path, "%q is not a domain such as example.com", d)
					return
				}
				o.AllowedDomains = append(o.AllowedDomains, d)
			}
		},
		"pkce": func(v *yaml.Node, path string) {
			if b, ok := p.boolean(v, path); ok {
				o.PKCE = b
				given["pkce"] = v
			}
		},
	}
	p.secretKeys(keys, "client_secret", given, func(c *Config, v string) { c.Console.OIDC.ClientSecret = v })
	if !p.object(n, path, keys) {
		return
	}
	for _, k := range []string{"issuer", "client_id"} {
		if given[k] == nil {
			p.errf(n, path, "%s is required", k)
		}
	}
	if len(o.AllowedEmails) == 0 && len(o.AllowedDomains) == 0 {
		p.errf(n, path, "allowed_emails or allowed_domains is required: without them anyone with an account at the issuer could sign in")
	}
	if !o.PKCE && given["client_secret"] == nil {
		p.errf(n, path, "pkce: false needs client_secret: a public client proves itself with PKCE only")
	}
	p.cfg.Console.OIDC = o
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
