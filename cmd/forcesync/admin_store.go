package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
)

// Admins kept in the store: forcesync admin add|list|remove|passwd. The
// console signs them in next to the config's console.admins; a config
// admin of the same name wins, so these commands refuse names the config
// lists.

// addAdminStoreCmds adds add, list, remove and passwd to the admin command.
func addAdminStoreCmds(env *Env, cmd *cobra.Command) {
	var cfgPath string
	cost := bcrypt.DefaultCost
	open := func(ctx context.Context) (*config.Config, forcesync.Store, forcesync.AdminStore, error) {
		cfg, st, err := openStore(ctx, env, cfgPath)
		if err != nil {
			return nil, nil, nil, err
		}
		as, ok := forcesync.StoreAs[forcesync.AdminStore](st)
		if !ok {
			st.Close()
			return nil, nil, nil, errors.New("this store keeps no admins")
		}
		return cfg, st, as, nil
	}
	inConfig := func(cfg *config.Config, name string) bool {
		for _, a := range cfg.Console.Admins {
			if a.Username == name {
				return true
			}
		}
		return false
	}
	// openStored opens the store for a command on the stored admin name,
	// refusing a name the config lists (its hash would win), with hint
	// saying where to make the change instead.
	openStored := func(ctx context.Context, name, hint string) (forcesync.Store, forcesync.AdminStore, error) {
		cfg, st, as, err := open(ctx)
		if err != nil {
			return nil, nil, err
		}
		if inConfig(cfg, name) {
			st.Close()
			return nil, nil, fmt.Errorf("admin %q is listed in the config (console.admins)"+hint, name)
		}
		return st, as, nil
	}
	newHash := func() (string, error) { return hashPassword(env, cost) }
	checkName := func(name string) error {
		if !config.AdminNameOK(name) {
			return usageError{fmt.Errorf("admin name %q: use 1 to 100 letters, digits and . _ @ + -", name)}
		}
		return nil
	}

	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a console admin to the store (asks for the password)",
		Long: `Adds an admin kept in the store, who signs in to the console with the
password read from the terminal (without echo) or the first line of standard
input. Serve sees the new admin at once, without a reload.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := checkName(name); err != nil {
				return err
			}
			st, as, err := openStored(cmd.Context(), name, "; change it there")
			if err != nil {
				return err
			}
			defer st.Close()
			h, err := newHash()
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			if err := as.CreateAdmin(cmd.Context(), forcesync.StoredAdmin{Username: name, PasswordHash: h, Created: now, Updated: now}); err != nil {
				if forcesync.ErrorCode(err) == forcesync.EConflict {
					return fmt.Errorf("admin %q already exists (forcesync admin passwd %s changes the password)", name, name)
				}
				return err
			}
			fmt.Fprintf(env.Stdout, "admin %s added\n", name)
			return nil
		},
	}
	passwd := &cobra.Command{
		Use:   "passwd NAME",
		Short: "Set a stored admin's password; their sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, as, err := openStored(cmd.Context(), name, ": put a new hash there (forcesync admin hash-password)")
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := as.Admin(cmd.Context(), name); err != nil {
				return err
			}
			h, err := newHash()
			if err != nil {
				return err
			}
			if err := as.SetAdminPassword(cmd.Context(), name, h, time.Now().UTC()); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "password of %s changed; their sessions ended\n", name)
			return nil
		},
	}
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a stored admin; their sessions end",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			st, as, err := openStored(cmd.Context(), name, "; remove it there")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := as.DeleteAdmin(cmd.Context(), name); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "admin %s removed; their sessions ended\n", name)
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the console's admins: the config's and the store's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, st, as, err := open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			stored, err := as.Admins(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tKEPT IN\tPASSWORD SET")
			for _, a := range cfg.Console.Admins {
				fmt.Fprintf(tw, "%s\tconfig\t-\n", a.Username)
			}
			for _, a := range stored {
				fmt.Fprintf(tw, "%s\tstore\t%s\n", a.Username, a.Updated.UTC().Format(time.RFC3339))
			}
			if o := cfg.Console.OIDC; o != nil {
				for _, e := range o.AllowedEmails {
					fmt.Fprintf(tw, "%s\toidc (%s)\t-\n", e, o.Name)
				}
				for _, d := range o.AllowedDomains {
					fmt.Fprintf(tw, "*@%s\toidc (%s)\t-\n", d, o.Name)
				}
			}
			return tw.Flush()
		},
	}
	for _, c := range []*cobra.Command{add, passwd, remove, list} {
		c.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file (its store keeps the admins)")
	}
	for _, c := range []*cobra.Command{add, passwd} {
		c.Flags().IntVar(&cost, "cost", bcrypt.DefaultCost, "bcrypt cost (work factor)")
	}
	cmd.AddCommand(add, list, remove, passwd)
}
