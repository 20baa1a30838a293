package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

func init() { register(newLoginCmd) }

// loginOptions are the flags of forcesync login.
type loginOptions struct {
	name              string
	loginURL          string
	clientID          string
	clientSecret      string
	apiVersion        string
	callbackPort      int
	callbackPath      string
	timeout           time.Duration
	clientCredentials bool
	jwtKey            string
	username          string
	accessToken       bool
	instanceURL       string
	scopes            []string
}

func newLoginCmd(env *Env) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Authorize forcesync with a Salesforce org and save the connection",
		Long: `Authorize forcesync with a Salesforce org and save the connection.

By default this runs the OAuth web-server flow with PKCE: forcesync listens on
127.0.0.1 (a random port, or --callback-port to match the callback URL of your
connected app), prints the authorize URL to open in a browser, and waits for
Salesforce to redirect back with a code.

Other flows:
  --client-credentials            the connected app's client credentials (My Domain login URL)
  --jwt-key FILE --username U     JWT bearer with the app's private key
  --access-token --instance-url U a token taken from $FORCESYNC_ACCESS_TOKEN

The client secret may come from $FORCESYNC_CLIENT_SECRET instead of the flag.
Secrets are saved sealed (AES-256-GCM) under $FORCESYNC_HOME with a key kept
beside them in a separate 0600 file (or given as base64 in $FORCESYNC_KEY).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLogin(cmd.Context(), env, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "default", "name to save the connection under")
	f.StringVar(&o.loginURL, "login-url", "production", "production, sandbox, or the login URL (My Domain, emulator)")
	f.StringVar(&o.clientID, "client-id", "", "consumer key of the connected app")
	f.StringVar(&o.clientSecret, "client-secret", "", "consumer secret (or $"+envClientSecret+")")
	f.StringVar(&o.apiVersion, "api-version", "", "API version to pin, e.g. 65.0 (default: the newest the org serves)")
	f.IntVar(&o.callbackPort, "callback-port", 0, "loopback port for the OAuth callback (0: any free port)")
	f.StringVar(&o.callbackPath, "callback-path", "/oauth/callback", "path of the OAuth callback URL")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the browser to come back")
	f.BoolVar(&o.clientCredentials, "client-credentials", false, "use the client credentials flow")
	f.StringVar(&o.jwtKey, "jwt-key", "", "PEM private key file for the JWT bearer flow")
	f.StringVar(&o.username, "username", "", "Salesforce username for the JWT bearer flow")
	f.BoolVar(&o.accessToken, "access-token", false, "save the access token in $"+envAccessToken)
	f.StringVar(&o.instanceURL, "instance-url", "", "instance URL for --access-token")
	f.StringSliceVar(&o.scopes, "scope", nil, "OAuth scopes to ask for (default: the app's, e.g. api refresh_token)")
	return cmd
}

func runLogin(ctx context.Context, env *Env, o *loginOptions) error {
	if err := checkConnName(o.name); err != nil {
		return err
	}
	login, err := loginURLFor(o.loginURL)
	if err != nil {
		return err
	}
	if o.clientSecret == "" {
		o.clientSecret = env.Getenv(envClientSecret)
	}
	flows := 0
	for _, on := range []bool{o.clientCredentials, o.jwtKey != "", o.accessToken} {
		if on {
			flows++
		}
	}
	if flows > 1 {
		return usageError{errors.New("choose one of --client-credentials, --jwt-key and --access-token")}
	}
	if o.username != "" && o.jwtKey == "" {
		return usageError{errors.New("--username goes with --jwt-key")}
	}
	if o.callbackPort < 0 || o.callbackPort > 65535 {
		return usageError{fmt.Errorf("--callback-port %d is not a port", o.callbackPort)}
	}

	sc := &savedConnection{Name: o.name, LoginURL: login, ClientID: o.clientID}
	secrets := map[string]string{}
	cfg := salesforce.Config{LoginURL: login, APIVersion: o.apiVersion}
	var tok *oauth2.Token

	switch {
	case o.accessToken:
		at := env.Getenv(envAccessToken)
		if at == "" {
			return usageError{fmt.Errorf("--access-token reads the token from $%s, which is empty", envAccessToken)}
		}
		if o.instanceURL == "" {
			return usageError{errors.New("--access-token needs --instance-url")}
		}
		sc.AuthMethod = forcesync.AuthAccessToken
		cfg.InstanceURL = strings.TrimRight(o.instanceURL, "/")
		cfg.Auth = salesforce.StaticToken{AccessToken: at}
	case o.clientCredentials:
		if o.clientID == "" || o.clientSecret == "" {
			return usageError{errors.New("--client-credentials needs --client-id and a client secret")}
		}
		sc.AuthMethod = forcesync.AuthClientCredentials
		secrets[secretClientSecret] = o.clientSecret
		cfg.Auth = salesforce.ClientCredentials{ClientID: o.clientID, ClientSecret: o.clientSecret}
	case o.jwtKey != "":
		if o.clientID == "" || o.username == "" {
			return usageError{errors.New("--jwt-key needs --client-id and --username")}
		}
		pem, err := os.ReadFile(o.jwtKey)
		if err != nil {
			return fmt.Errorf("reading --jwt-key: %w", err)
		}
		if _, err := salesforce.ParseRSAPrivateKey(pem); err != nil {
			return fmt.Errorf("--jwt-key %s: %w", o.jwtKey, err)
		}
		sc.AuthMethod = forcesync.AuthJWT
		sc.Username = o.username
		secrets[secretPrivateKey] = string(pem)
		cfg.Auth = salesforce.JWTBearer{ClientID: o.clientID, Username: o.username, PrivateKeyPEM: pem}
	default:
		if o.clientID == "" {
			return usageError{errors.New("--client-id is required (the connected app's consumer key)")}
		}
		t, err := webServerLogin(ctx, env, o, login)
		if err != nil {
			return err
		}
		tok = t
		useWebToken(sc, secrets, &cfg, o.clientSecret, tok)
	}

	if _, err := finishLogin(ctx, env, sc, secrets, cfg); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Logged in to org %s as %s (%s) at %s, API v%s; saved as connection %q.\n",
		sc.OrgID, sc.Username, sc.AuthMethod, sc.InstanceURL, sc.APIVersion, sc.Name)
	return nil
}

// useWebToken sets sc, secrets and cfg up for the token of a finished
// web-server flow (sc.ClientID set).
func useWebToken(sc *savedConnection, secrets map[string]string, cfg *salesforce.Config, clientSecret string, tok *oauth2.Token) {
	sc.AuthMethod = forcesync.AuthWebServer
	if clientSecret != "" {
		secrets[secretClientSecret] = clientSecret
	}
	secrets[secretRefreshToken] = tok.RefreshToken
	cfg.Auth = &salesforce.RefreshToken{ClientID: sc.ClientID, ClientSecret: clientSecret, RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken}
	if s, ok := tok.Extra("instance_url").(string); ok {
		cfg.InstanceURL = s
	}
}

// finishLogin connects once with cfg, which proves the credentials, learns
// the instance and the API version and tells who we are, then saves sc with
// secrets (adding the session's tokens). forcesync login and the console's
// "Connect to Salesforce" both end here.
func finishLogin(ctx context.Context, env *Env, sc *savedConnection, secrets map[string]string, cfg salesforce.Config) (*salesforce.Client, error) {
	var last *oauth2.Token
	cfg.Hooks.OnToken = func(t *oauth2.Token) { last = t }
	c, err := salesforce.NewClient(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	id, err := c.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("login: asking who we are: %w", err)
	}
	if last != nil {
		secrets[secretAccessToken] = last.AccessToken
		if last.RefreshToken != "" && sc.AuthMethod == forcesync.AuthWebServer {
			secrets[secretRefreshToken] = last.RefreshToken
		}
	}
	if sc.AuthMethod == forcesync.AuthWebServer && secrets[secretRefreshToken] == "" {
		fmt.Fprintln(env.Stderr, "forcesync: warning: Salesforce issued no refresh token (add the refresh_token scope to the connected app); the connection works until the session ends")
	}
	sc.InstanceURL = c.InstanceURL()
	sc.APIVersion = c.Version()
	sc.OrgID, sc.UserID = id.OrgID, id.UserID
	if id.Username != "" {
		sc.Username = id.Username
	}
	sc.SavedAt = time.Now().UTC()
	if err := saveConnection(env, sc, secrets); err != nil {
		return nil, fmt.Errorf("saving connection %q: %w", sc.Name, err)
	}
	return c, nil
}

// callbackResult is what the browser brought back to the loopback listener.
type callbackResult struct {
	code string
	err  error
}

// webServerLogin runs the web-server flow with PKCE through a loopback
// callback and returns the token.
func webServerLogin(ctx context.Context, env *Env, o *loginOptions, login string) (*oauth2.Token, error) {
	path := "/" + strings.TrimLeft(o.callbackPath, "/")
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.callbackPort)))
	if err != nil {
		return nil, fmt.Errorf("listening for the OAuth callback: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d%s", ln.Addr().(*net.TCPAddr).Port, path)
	flow := &salesforce.WebFlow{
		LoginURL:     login,
		ClientID:     o.clientID,
		ClientSecret: o.clientSecret,
		RedirectURL:  redirect,
		Scopes:       o.scopes,
	}
	state, verifier := salesforce.NewState(), oauth2.GenerateVerifier()
	results := make(chan callbackResult, 1)
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res callbackResult
		switch {
		case !salesforce.CheckState(q.Get("state"), state):
			// Not our flow (or a forged redirect): refuse, keep waiting.
			http.Error(w, "state does not match this login; start again from forcesync login", http.StatusBadRequest)
			return
		case q.Get("error") != "":
			res.err = &salesforce.AuthError{Code: q.Get("error"), Description: q.Get("error_description")}
		case q.Get("code") == "":
			http.Error(w, "no authorization code in the callback", http.StatusBadRequest)
			return
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "forcesync is authorized. You can close this window."
		if res.err != nil {
			msg = "Authorization failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>forcesync</title><p>%s</p>\n", html.EscapeString(msg))
		select {
		case results <- res:
		default: // a second callback for the same state: the first wins
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		<-serveErr
	}()

	fmt.Fprintf(env.Stderr, "Open this URL in your browser to authorize forcesync:\n\n  %s\n\nWaiting for Salesforce to redirect to %s ...\n",
		flow.AuthCodeURL(state, verifier), redirect)

	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var res callbackResult
	select {
	case res = <-results:
	case err := <-serveErr:
		return nil, fmt.Errorf("OAuth callback listener: %w", err)
	case <-wctx.Done():
		return nil, fmt.Errorf("no authorization within %v: %w", o.timeout, wctx.Err())
	}
	if res.err != nil {
		return nil, fmt.Errorf("login: %w", res.err)
	}
	tok, err := flow.Exchange(ctx, res.code, verifier)
	if err != nil {
		return nil, fmt.Errorf("login: exchanging the code: %w", err)
	}
	return tok, nil
}
