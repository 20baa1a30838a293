package config

import "fmt"

// checkTokens refuses tokens that would make a request's source ambiguous:
// two sources sharing a token, or a source using the server's own token
// (which opens every source, so the source's limit would mean nothing).
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
	return errs
}
