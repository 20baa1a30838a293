package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/forcesync/forcesync/secret"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// Saved connections live in $FORCESYNC_HOME (default ~/.config/forcesync):
//
//	key                      the sealing key, 32 random bytes in base64, mode 0600,
//	                         created on first use (or FORCESYNC_KEY, base64, instead)
//	connections/NAME.json    one connection, mode 0600; secrets sealed with the key
//
// The key never sits in the connection file, so copying a connection file
// alone leaks no secret. Secrets are sealed with the connection name and
// the secret's role as context: a sealed refresh token cannot be passed off
// as another connection's, or as a client secret.

// Environment variables the connection commands read (through Env.Getenv).
const (
	envHome         = "FORCESYNC_HOME"
	envKey          = "FORCESYNC_KEY"
	envClientSecret = "FORCESYNC_CLIENT_SECRET"
	envAccessToken  = "FORCESYNC_ACCESS_TOKEN"
)

// Secret roles in a saved connection.
const (
	secretRefreshToken = "refresh_token"
	secretClientSecret = "client_secret"
	secretAccessToken  = "access_token"
	secretPrivateKey   = "private_key"
)

// savedConnection is the file format of a connection (version 1).
type savedConnection struct {
	FormatVersion int                  `json:"format_version"`
	Name          string               `json:"name"`
	AuthMethod    forcesync.AuthMethod `json:"auth_method"`
	LoginURL      string               `json:"login_url"`
	InstanceURL   string               `json:"instance_url"`
	APIVersion    string               `json:"api_version"`
	ClientID      string               `json:"client_id"`
	OrgID         string               `json:"org_id"`
	UserID        string               `json:"user_id"`
	Username      string               `json:"username"`
	SavedAt       time.Time            `json:"saved_at"`
	// Secrets maps a role (refresh_token, client_secret, access_token,
	// private_key) to its sealed value (secret.Seal); never plain text.
	Secrets map[string]string `json:"secrets"`
}

var connNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func checkConnName(name string) error {
	if !connNameRE.MatchString(name) {
		return usageError{fmt.Errorf("connection name %q: use letters, digits, '.', '_' and '-' (at most 64)", name)}
	}
	return nil
}

// homeDir returns $FORCESYNC_HOME, else $XDG_CONFIG_HOME/forcesync, else
// $HOME/.config/forcesync.
func homeDir(env *Env) (string, error) {
	if h := env.Getenv(envHome); h != "" {
		return h, nil
	}
	if x := env.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "forcesync"), nil
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "forcesync"), nil
	}
	return "", errors.New("no home for saved connections: set FORCESYNC_HOME")
}

// sealingKey returns the key from FORCESYNC_KEY, else from the key file in
// home, creating the file (0600, in a 0700 directory) when create is set.
func sealingKey(env *Env, home string, create bool) (secret.Key, error) {
	if s := env.Getenv(envKey); s != "" {
		k, err := secret.ParseKey(s)
		if err != nil {
			return secret.Key{}, fmt.Errorf("%s: %w", envKey, err)
		}
		return k, nil
	}
	path := filepath.Join(home, "key")
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := secret.ParseKey(string(b))
		if err != nil {
			return secret.Key{}, fmt.Errorf("key file %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		return secret.Key{}, fmt.Errorf("reading key file: %w", err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return secret.Key{}, err
	}
	k, err := secret.NewKey()
	if err != nil {
		return secret.Key{}, err
	}
	// O_EXCL: if another process created the key meanwhile, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return sealingKey(env, home, false)
	}
	if err != nil {
		return secret.Key{}, fmt.Errorf("creating key file: %w", err)
	}
	if _, err := f.WriteString(k.Encode() + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return secret.Key{}, fmt.Errorf("writing key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return secret.Key{}, fmt.Errorf("writing key file: %w", err)
	}
	return k, nil
}

func connPath(home, name string) string {
	return filepath.Join(home, "connections", name+".json")
}

func sealContext(name, role string) string { return "connection/" + name + "/" + role }

// saveConnection seals secrets (role -> plain value; empty values are left
// out) into sc and writes the file atomically with mode 0600.
func saveConnection(env *Env, sc *savedConnection, secrets map[string]string) error {
	if err := checkConnName(sc.Name); err != nil {
		return err
	}
	home, err := homeDir(env)
	if err != nil {
		return err
	}
	key, err := sealingKey(env, home, true)
	if err != nil {
		return err
	}
	sc.FormatVersion = 1
	sc.Secrets = map[string]string{}
	for role, v := range secrets {
		if v == "" {
			continue
		}
		s, err := secret.Seal(key, []byte(v), sealContext(sc.Name, role))
		if err != nil {
			return err
		}
		sc.Secrets[role] = s
	}
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(home, "connections")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+sc.Name+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), connPath(home, sc.Name))
}

// loadConnection reads a saved connection and opens its secrets.
func loadConnection(env *Env, name string) (*savedConnection, map[string]string, error) {
	if err := checkConnName(name); err != nil {
		return nil, nil, err
	}
	home, err := homeDir(env)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(connPath(home, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, forcesync.Errorf(forcesync.ENotFound, "no saved connection %q (run forcesync login --name %s)", name, name)
	}
	if err != nil {
		return nil, nil, err
	}
	var sc savedConnection
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, nil, fmt.Errorf("connection %q: file is not valid: %w", name, err)
	}
	if sc.FormatVersion != 1 {
		return nil, nil, fmt.Errorf("connection %q: unknown file format %d", name, sc.FormatVersion)
	}
	if sc.Name != name {
		return nil, nil, fmt.Errorf("connection file %q holds connection %q", name, sc.Name)
	}
	key, err := sealingKey(env, home, false)
	if err != nil {
		return nil, nil, err
	}
	secrets := map[string]string{}
	for role, sealed := range sc.Secrets {
		pt, err := secret.Open(key, sealed, sealContext(name, role))
		if err != nil {
			return nil, nil, fmt.Errorf("connection %q: opening %s: %w", name, role, err)
		}
		secrets[role] = string(pt)
	}
	return &sc, secrets, nil
}

// authFor builds the salesforce.Auth of a saved connection.
func authFor(sc *savedConnection, secrets map[string]string) (salesforce.Auth, error) {
	switch sc.AuthMethod {
	case forcesync.AuthWebServer:
		return &salesforce.RefreshToken{
			ClientID:     sc.ClientID,
			ClientSecret: secrets[secretClientSecret],
			RefreshToken: secrets[secretRefreshToken],
			AccessToken:  secrets[secretAccessToken],
		}, nil
	case forcesync.AuthClientCredentials:
		return salesforce.ClientCredentials{ClientID: sc.ClientID, ClientSecret: secrets[secretClientSecret]}, nil
	case forcesync.AuthJWT:
		return salesforce.JWTBearer{ClientID: sc.ClientID, Username: sc.Username, PrivateKeyPEM: []byte(secrets[secretPrivateKey])}, nil
	case forcesync.AuthAccessToken:
		return salesforce.StaticToken{AccessToken: secrets[secretAccessToken]}, nil
	}
	return nil, fmt.Errorf("connection %q: unknown auth method %q", sc.Name, sc.AuthMethod)
}

// connectionFlag adds --connection to cmd.
func connectionFlag(cmd *cobra.Command, name *string) {
	cmd.Flags().StringVar(name, "connection", "default", "saved connection to use (see forcesync login)")
}

// openClient connects with a saved connection. A token renewed during the
// command is saved back (sealed), so the next command does not renew again;
// failing to save only warns.
func openClient(ctx context.Context, env *Env, name string) (*salesforce.Client, *savedConnection, error) {
	return openSaved(ctx, env, name, salesforce.Hooks{})
}

// openSaved is openClient with hooks of the caller's (OnCall, say); the
// saving of renewed tokens is chained after any OnToken of hooks.
func openSaved(ctx context.Context, env *Env, name string, hooks salesforce.Hooks) (*salesforce.Client, *savedConnection, error) {
	sc, secrets, err := loadConnection(env, name)
	if err != nil {
		return nil, nil, err
	}
	auth, err := authFor(sc, secrets)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	onToken := func(tok *oauth2.Token) {
		mu.Lock()
		defer mu.Unlock()
		changed := tok.AccessToken != secrets[secretAccessToken] ||
			(tok.RefreshToken != "" && tok.RefreshToken != secrets[secretRefreshToken])
		if !changed {
			return
		}
		secrets[secretAccessToken] = tok.AccessToken
		if tok.RefreshToken != "" && sc.AuthMethod == forcesync.AuthWebServer {
			secrets[secretRefreshToken] = tok.RefreshToken
		}
		if s, ok := tok.Extra("instance_url").(string); ok && s != "" {
			sc.InstanceURL = s
		}
		sc.SavedAt = time.Now().UTC()
		if err := saveConnection(env, sc, secrets); err != nil {
			fmt.Fprintf(env.Stderr, "forcesync: warning: could not save the renewed session of %q: %v\n", name, err)
		}
	}
	if prev := hooks.OnToken; prev != nil {
		save := onToken
		onToken = func(tok *oauth2.Token) { prev(tok); save(tok) }
	}
	hooks.OnToken = onToken
	cfg := salesforce.Config{
		LoginURL:   sc.LoginURL,
		APIVersion: sc.APIVersion,
		Auth:       auth,
		Hooks:      hooks,
		ClientName: "forcesync",
	}
	// A saved access token is only usable with its instance; flows that
	// mint a token learn the instance from it.
	if secrets[secretAccessToken] != "" {
		cfg.InstanceURL = sc.InstanceURL
	}
	c, err := salesforce.NewClient(ctx, cfg)
	if err != nil {
		var ae *salesforce.AuthError
		if errors.As(err, &ae) && ae.Reauthorize {
			return nil, nil, fmt.Errorf("connection %q: %w; run forcesync login --name %s again", name, err, name)
		}
		return nil, nil, fmt.Errorf("connection %q: %w", name, err)
	}
	return c, sc, nil
}

// loginURLFor resolves --login-url: production, sandbox or a URL.
func loginURLFor(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "production", "prod", "login":
		return salesforce.ProductionLoginURL, nil
	case "sandbox", "test":
		return salesforce.SandboxLoginURL, nil
	}
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return "", usageError{fmt.Errorf("--login-url %q: want production, sandbox or an http(s) URL", s)}
	}
	return strings.TrimRight(s, "/"), nil
}
