package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"
)

// Org pinning (issue 12): the store remembers the org of a connection's
// first login; every later token (first login of a process, refresh,
// re-mint) is checked against it before the client uses it.

func init() { register(newConnectionPinCmd) }

// orgGuard vets the tokens of one configured connection against its pin.
type orgGuard struct {
	pins forcesync.OrgPins
	conn string
	// readOnly checks an existing pin but never makes one (plan,
	// reconcile without --heal: they write nothing).
	readOnly bool
	mu       sync.Mutex
	seen     bool          // a token named its org
	pace     time.Duration // the org's Bulk pace kept with the pin
}

// check is a salesforce.Hooks.CheckToken: it pins the connection at its
// first login and refuses a token of any other org. A token that names no
// org (a plain access token) passes here; connectPinned asks who it is.
func (g *orgGuard) check(tok *oauth2.Token) error {
	id, ok := salesforce.IdentityFromToken(tok)
	if !ok {
		return nil
	}
	inst, _ := tok.Extra("instance_url").(string)
	if err := g.verify(context.Background(), id.OrgID, inst); err != nil {
		return err
	}
	g.mu.Lock()
	g.seen = true
	g.mu.Unlock()
	return nil
}

// verify pins org when the connection has no pin and compares otherwise.
func (g *orgGuard) verify(ctx context.Context, org, instance string) error {
	var pin *forcesync.OrgPin
	var err error
	if g.readOnly {
		pin, err = g.pins.OrgPin(ctx, g.conn)
	} else {
		pin, err = g.pins.PinOrg(ctx, forcesync.OrgPin{Connection: g.conn, OrgID: org, InstanceURL: instance}, false)
	}
	if err != nil {
		return fmt.Errorf("connection %s: checking the org pin: %w", g.conn, err)
	}
	if pin == nil {
		return nil // not pinned yet, and not ours to pin
	}
	if !sameOrg(pin.OrgID, org) {
		return &forcesync.OrgMismatchError{Connection: g.conn, Pinned: pin.OrgID, Found: org, InstanceURL: instance}
	}
	g.mu.Lock()
	g.pace = pin.BulkPace
	g.mu.Unlock()
	return nil
}

// sameOrg compares org Ids, tolerating the 15-character form.
func sameOrg(a, b string) bool {
	if len(a) >= 15 && len(b) >= 15 {
		return a[:15] == b[:15]
	}
	return a == b
}

// connectPinned connects a configured connection with its org pin in
// force. The pin lives in the store, so every replica and every command
// sharing it agrees. The pace the client learns of the org's Bulk jobs is
// kept with the pin by the returned keeper (wait for it before closing
// the store), so the next process polls its first job about when it
// should be done.
func connectPinned(ctx context.Context, env *Env, st forcesync.Store, c forcesync.Connection, hooks salesforce.Hooks) (*salesforce.Client, *paceKeeper, error) {
	pins, ok := forcesync.StoreAs[forcesync.OrgPins](st)
	if !ok {
		return nil, nil, fmt.Errorf("connection %s: the store %T cannot pin orgs", c.Name, st)
	}
	k := &paceKeeper{pins: pins, conn: c.Name, errs: env.Stderr}
	hooks.OnBulkPace = k.note
	client, err := connectGuarded(ctx, env, st, c, hooks, false)
	if err != nil {
		return nil, nil, err
	}
	return client, k, nil
}

// paceKeeper saves the pace a client learned of its org's Bulk jobs
// (salesforce.Hooks.OnBulkPace) with the connection's pin, off the
// goroutine that heard it: that goroutine is about to fetch the job's
// results, and the store's writer may be busy with the push's own rows.
// Saves run one at a time, the newest pace winning.
type paceKeeper struct {
	pins   forcesync.OrgPins
	conn   string
	errs   io.Writer
	mu     sync.Mutex
	latest time.Duration // to save; 0 when none waits
	saving bool
	wg     sync.WaitGroup
}

func (k *paceKeeper) note(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.latest = d
	if k.saving {
		return
	}
	k.saving = true
	k.wg.Add(1)
	go k.save()
}

func (k *paceKeeper) save() {
	defer k.wg.Done()
	for {
		k.mu.Lock()
		d := k.latest
		k.latest = 0
		if d <= 0 {
			k.saving = false
			k.mu.Unlock()
			return
		}
		k.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := k.pins.SaveBulkPace(ctx, k.conn, d); err != nil {
			fmt.Fprintf(k.errs, "connection %s: keeping the pace of Bulk jobs (the next run plans its polls without it): %v\n", k.conn, err)
		}
		cancel()
	}
}

// wait returns once no save runs.
func (k *paceKeeper) wait() {
	if k != nil {
		k.wg.Wait()
	}
}

// connectGuarded is connectPinned; readOnly checks the pin without
// pinning a connection that has none. The client starts from the pace
// kept with the pin.
func connectGuarded(ctx context.Context, env *Env, st forcesync.Store, c forcesync.Connection, hooks salesforce.Hooks, readOnly bool) (*salesforce.Client, error) {
	pins, ok := forcesync.StoreAs[forcesync.OrgPins](st)
	if !ok {
		return nil, fmt.Errorf("connection %s: the store %T cannot pin orgs", c.Name, st)
	}
	g := &orgGuard{pins: pins, conn: c.Name, readOnly: readOnly}
	hooks.CheckToken = g.check
	client, err := connect(ctx, env, c, hooks)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	seen, pace := g.seen, g.pace
	g.mu.Unlock()
	client.SeedBulkPace(pace)
	if !seen {
		// The token did not say which org it belongs to: ask.
		id, err := client.Identity(ctx)
		if err != nil {
			return nil, fmt.Errorf("connection %s: asking which org this is (to check its pin): %w", c.Name, err)
		}
		if err := g.verify(ctx, id.OrgID, client.InstanceURL()); err != nil {
			return nil, err
		}
		g.mu.Lock()
		client.SeedBulkPace(g.pace)
		g.mu.Unlock()
	}
	return client, nil
}

func newConnectionPinCmd(env *Env) *cobra.Command {
	parent := &cobra.Command{Use: "connection", Short: "Work with the connections of a config"}
	var cfgPath string
	pin := &cobra.Command{
		Use:   "pin NAME",
		Short: "Pin a connection to the org it reaches now",
		Long: `Logs in with connection NAME of the config and pins it to the org the login
reaches. A connection is pinned to the org of its first login; a later login
that reaches another org (a refreshed sandbox, credentials of the wrong org) is
refused until it is re-pinned with this command. Nothing else is changed:
bindings made in the old org stay as they are.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnectionPin(cmd.Context(), env, cfgPath, args[0])
		},
	}
	pin.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	parent.AddCommand(pin)
	return parent
}

func runConnectionPin(ctx context.Context, env *Env, path, name string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if err := cfg.Resolve(env.Getenv); err != nil {
		return err
	}
	conn := cfg.Connection(name)
	if conn == nil {
		return usageError{fmt.Errorf("connection %q is not declared in %s", name, path)}
	}
	st, err := openConfigStore(ctx, cfg, path)
	if err != nil {
		return err
	}
	defer st.Close()
	pins, ok := forcesync.StoreAs[forcesync.OrgPins](st)
	if !ok {
		return fmt.Errorf("the store %T cannot pin orgs", st)
	}
	old, err := pins.OrgPin(ctx, name)
	if err != nil {
		return err
	}
	client, err := connect(ctx, env, *conn, salesforce.Hooks{})
	if err != nil {
		return fmt.Errorf("connection %s: %w", name, err)
	}
	id, err := client.Identity(ctx)
	if err != nil {
		return fmt.Errorf("connection %s: asking which org this is: %w", name, err)
	}
	if id.OrgID == "" {
		return errors.New("Salesforce named no org for this login")
	}
	got, err := pins.PinOrg(ctx, forcesync.OrgPin{Connection: name, OrgID: id.OrgID, InstanceURL: client.InstanceURL()}, true)
	if err != nil {
		return err
	}
	switch {
	case old == nil:
		fmt.Fprintf(env.Stdout, "Connection %s pinned to org %s (%s).\n", name, got.OrgID, got.InstanceURL)
	case sameOrg(old.OrgID, got.OrgID):
		fmt.Fprintf(env.Stdout, "Connection %s stays pinned to org %s (%s).\n", name, got.OrgID, got.InstanceURL)
	default:
		fmt.Fprintf(env.Stdout, "Connection %s re-pinned from org %s to org %s (%s).\n", name, old.OrgID, got.OrgID, got.InstanceURL)
	}
	return nil
}
