package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
)

func init() { register(newConnectionCmd) }

func newConnectionCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "connection", Short: "Work with Salesforce connections"}
	var f connTestFlags
	test := &cobra.Command{
		Use:   "test NAME",
		Short: "Log in and check a connection: identity, org, API version, limits, mapped objects",
		Long: `Logs in with the connection NAME and reports who it is (user, org Id), the
API version and instance, the org's daily API allowance, and, with --config, the
describe of every object the config's mappings of NAME write to.

NAME is a connection of --config when one is given (which may itself be a saved
one), else a connection saved by forcesync login.

Exit codes, for scripts: 0 all good; 6 login refused (bad or revoked
credentials); 7 Salesforce unreachable (network, 5xx); 4 a mapped object
cannot be described (missing, or no access); 3 a bad config; 2 bad usage.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch f.format {
			case "text", "json":
			default:
				return usageError{fmt.Errorf("--format %q: want text or json", f.format)}
			}
			return runConnTest(cmd.Context(), env, args[0], f)
		},
	}
	test.Flags().StringVar(&f.config, "config", "", "config file whose connection NAME and mapped objects to test")
	test.Flags().StringVar(&f.format, "format", "text", "output: text or json")
	cmd.AddCommand(test)
	return cmd
}

type connTestFlags struct {
	config string
	format string
}

// connReport is what connection test found; its JSON form is for scripts.
type connReport struct {
	Connection  string         `json:"connection"`
	OK          bool           `json:"ok"`
	LoginURL    string         `json:"login_url,omitempty"`
	InstanceURL string         `json:"instance_url,omitempty"`
	APIVersion  string         `json:"api_version,omitempty"`
	OrgID       string         `json:"org_id,omitempty"`
	UserID      string         `json:"user_id,omitempty"`
	Username    string         `json:"username,omitempty"`
	DailyAPI    *apiAllowance  `json:"daily_api_requests,omitempty"`
	Objects     []objectReport `json:"objects,omitempty"`
	Steps       []stepReport   `json:"steps"`
	ExitCode    int            `json:"exit_code"`
}

type apiAllowance struct {
	Max       int `json:"max"`
	Remaining int `json:"remaining"`
}

type objectReport struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Fields int    `json:"fields,omitempty"`
	// ExternalID names the External ID field a mapping matches by, and
	// whether Salesforce compares its values by case.
	ExternalID    string `json:"external_id,omitempty"`
	CaseSensitive *bool  `json:"case_sensitive,omitempty"`
	Error         string `json:"error,omitempty"`
}

type stepReport struct {
	Step   string `json:"step"` // login, identity, limits, describe
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code,omitempty"` // forcesync error code when not ok
}

// runConnTest runs the steps in order; the first failure skips the rest
// (describe failures are per object, and all are tried).
func runConnTest(ctx context.Context, env *Env, name string, f connTestFlags) error {
	rep := &connReport{Connection: name, Steps: []stepReport{}}
	fail := func(step string, err error) error {
		code := forcesync.ErrorCode(err)
		rep.Steps = append(rep.Steps, stepReport{Step: step, Detail: err.Error(), Code: code})
		rep.ExitCode = exitCode(err)
		return err
	}
	err := func() error {
		var (
			c    *salesforce.Client
			objs []mappedObject
			err  error
		)
		if f.config != "" {
			var conn *forcesync.Connection
			conn, objs, err = configConnection(env, f.config, name)
			if err != nil {
				return fail("config", err)
			}
			c, err = connect(ctx, env, *conn, salesforce.Hooks{})
		} else {
			c, _, err = openSaved(ctx, env, name, salesforce.Hooks{})
		}
		if err != nil {
			return fail("login", classify(err, forcesync.EUnauthorized))
		}
		rep.LoginURL, rep.InstanceURL, rep.APIVersion = c.LoginURL(), c.InstanceURL(), c.Version()
		rep.Steps = append(rep.Steps, stepReport{Step: "login", OK: true, Detail: fmt.Sprintf("%s, API v%s", rep.InstanceURL, rep.APIVersion)})

		id, err := c.Identity(ctx)
		if err != nil {
			return fail("identity", classify(err, forcesync.EUnauthorized))
		}
		rep.OrgID, rep.UserID, rep.Username = id.OrgID, id.UserID, id.Username
		rep.Steps = append(rep.Steps, stepReport{Step: "identity", OK: true, Detail: fmt.Sprintf("%s (user %s) in org %s", id.Username, id.UserID, id.OrgID)})

		limits, err := c.Limits(ctx)
		if err != nil {
			return fail("limits", classify(err, forcesync.EUnavailable))
		}
		detail := "no DailyApiRequests limit reported"
		if l, ok := limits["DailyApiRequests"]; ok {
			rep.DailyAPI = &apiAllowance{Max: l.Max, Remaining: l.Remaining}
			detail = fmt.Sprintf("DailyApiRequests: %d of %d remaining", l.Remaining, l.Max)
		}
		rep.Steps = append(rep.Steps, stepReport{Step: "limits", OK: true, Detail: detail})

		if len(objs) == 0 {
			return nil
		}
		var firstErr error
		var names []string
		for _, o := range objs {
			or := objectReport{Name: o.object, ExternalID: o.extField}
			d, err := c.Describe(ctx, o.object)
			if err != nil {
				err = classify(err, forcesync.ENotFound)
				or.Error = err.Error()
				firstErr = cmpFirst(firstErr, err)
				rep.Objects = append(rep.Objects, or)
				names = append(names, o.object+" FAILED")
				continue
			}
			or.Name, or.OK, or.Fields = d.Name, true, len(d.Fields)
			if o.extField != "" {
				if fd := d.Field(o.extField); fd != nil {
					cs := fd.CaseSensitive
					or.ExternalID, or.CaseSensitive = fd.Name, &cs
				}
			}
			rep.Objects = append(rep.Objects, or)
			names = append(names, fmt.Sprintf("%s (%d fields)", d.Name, len(d.Fields)))
		}
		if firstErr != nil {
			rep.Steps = append(rep.Steps, stepReport{Step: "describe", Detail: strings.Join(names, ", ") + ": " + firstErr.Error(), Code: forcesync.ErrorCode(firstErr)})
			rep.ExitCode = exitCode(firstErr)
			return firstErr
		}
		rep.Steps = append(rep.Steps, stepReport{Step: "describe", OK: true, Detail: strings.Join(names, ", ")})
		return nil
	}()
	rep.OK = err == nil
	if werr := writeConnReport(env.Stdout, rep, f.format); werr != nil && err == nil {
		return werr
	}
	return err
}

// cmpFirst keeps the first error.
func cmpFirst(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// mappedObject is an object a config's mappings write through the tested
// connection, with the External ID field they match by, if any.
type mappedObject struct {
	object   string
	extField string
}

// configConnection loads the config and returns connection name and the
// objects its mappings write.
func configConnection(env *Env, path, name string) (*forcesync.Connection, []mappedObject, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.Resolve(env.Getenv); err != nil {
		return nil, nil, err
	}
	conn := cfg.Connection(name)
	if conn == nil {
		var have []string
		for _, c := range cfg.Connections {
			have = append(have, c.Name)
		}
		return nil, nil, forcesync.Errorf(forcesync.ENotFound, "%s has no connection %q (it has: %s)", path, name, strings.Join(have, ", "))
	}
	seen := map[string]bool{}
	var objs []mappedObject
	for _, m := range cfg.Mappings {
		mc := m.Connection
		if mc == "" && len(cfg.Connections) > 0 {
			mc = cfg.Connections[0].Name
		}
		if mc != name {
			continue
		}
		o := mappedObject{object: m.Object}
		if m.Match.Kind == forcesync.MatchExternalID {
			o.extField = m.Match.Field
		}
		k := strings.ToLower(o.object) + "\x00" + strings.ToLower(o.extField)
		if !seen[k] {
			seen[k] = true
			objs = append(objs, o)
		}
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].object < objs[j].object })
	return conn, objs, nil
}

// classify gives a Salesforce error its forcesync code: refused
// credentials are EUnauthorized, an org that does not answer (network,
// 5xx, rate limit) EUnavailable, anything else def.
func classify(err error, def string) error {
	var fe *forcesync.Error
	if errors.As(err, &fe) {
		return err // already coded (a missing saved connection, a config problem)
	}
	code := def
	var ae *salesforce.AuthError
	var api *salesforce.APIError
	switch {
	case errors.As(err, &ae):
		code = forcesync.EUnauthorized
		if ae.Retryable() {
			code = forcesync.EUnavailable
		}
	case errors.As(err, &api) && (api.Status == 401 || api.Status == 403):
		code = forcesync.EUnauthorized
	case salesforce.Retryable(err):
		code = forcesync.EUnavailable
	}
	return &codedError{code: code, err: err}
}

// classifyCall codes the error of a Salesforce call made for the user
// (describe, query, limits), for the exit code: what Salesforce could not
// find (404) is not found (4), a request it refused as malformed (400: a
// SOQL syntax error, an unknown field) is bad input (3), refused
// credentials are 6, no answer or a 5xx is 7; anything else stays 1.
func classifyCall(err error) error {
	var api *salesforce.APIError
	def := forcesync.EInternal
	if errors.As(err, &api) {
		switch api.Status {
		case 404:
			def = forcesync.ENotFound
		case 400:
			def = forcesync.EInvalid
		}
	}
	return classify(err, def)
}

// codedError gives err a forcesync code while keeping its text and chain.
type codedError struct {
	code string
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() []error {
	return []error{&forcesync.Error{Code: e.code, Message: e.err.Error()}, e.err}
}

func writeConnReport(w io.Writer, rep *connReport, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	status := "ok"
	if !rep.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "connection %s: %s\n", rep.Connection, status)
	for _, s := range rep.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %-9s %s %s\n", s.Step, mark, s.Detail)
	}
	for _, o := range rep.Objects {
		if o.OK && o.CaseSensitive != nil {
			how := "not case-sensitive (keys differing only in case are held with KEY_COLLISION)"
			if *o.CaseSensitive {
				how = "case-sensitive"
			}
			fmt.Fprintf(w, "  %s.%s: %s\n", o.Name, o.ExternalID, how)
		}
	}
	return nil
}
