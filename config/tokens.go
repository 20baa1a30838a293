package config

import "fmt"

// checkTokens refuses tokens that would make a request's source ambiguous:
// two sources sharing a token, a source using the server's own token
// (which opens every source, so the source's limit would mean nothing), or
// the SCIM token shared with either.
// It runs after Resolve has filled the secrets.
func (c *Config) checkTokens() ErrorList {
	var errs ErrorList
	owner := map[string]string{}
	if c.Server.APIToken != "" {
		owner[c.Server.APIToken] = "server.api_token"
	}
	for i, s := range c.Sources {
		if s.APIToken == "" {
			continue
		}
		path := fmt.Sprintf("sources[%d].api_token", i)
		if prev, ok := owner[s.APIToken]; ok {
			errs = append(errs, &Error{Pos: c.File + ": " + path,
				Msg: fmt.Sprintf("source %s has the same token as %s; give each source its own token (a source token opens only its source)", s.Name, prev)})
			continue
		}
		owner[s.APIToken] = path + " (" + s.Name + ")"
	}
	// The SCIM door's token too: shared with a source it would open that
	// source's REST routes to the identity provider, shared with the
	// server's it would open every route.
	if c.SCIM.Token != "" {
		if prev, ok := owner[c.SCIM.Token]; ok {
			errs = append(errs, &Error{Pos: c.File + ": scim.token",
				Msg: fmt.Sprintf("the SCIM token is the same as %s; give the identity provider its own token", prev)})
		}
	}
	return errs
}
