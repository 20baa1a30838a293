package main

import (
	"context"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/engine"
	"github.com/spf13/cobra"
)

func init() { register(newApproveCmd) }

// newApproveCmd: forcesync approve MAPPING lifts the mass-change guard's
// pause of a mapping and requeues the disables, deprovisions and deletes it
// held back. A running serve picks them up at its next look for work.
func newApproveCmd(env *Env) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "approve MAPPING",
		Short: "Let a mapping's mass disable/deprovision/delete through after the guard paused it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, st, err := openStore(cmd.Context(), env, cfgPath)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := approver(st, cfg)(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "approved %s: %d records requeued\n", args[0], n)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	return cmd
}

// approver returns the approve action over a store and a config.
func approver(st forcesync.Store, cfg *config.Config) func(ctx context.Context, mapping string) (int, error) {
	return func(ctx context.Context, mapping string) (int, error) {
		m := cfg.Mapping(mapping)
		if m == nil {
			return 0, forcesync.Errorf(forcesync.ENotFound, "unknown mapping %q", mapping)
		}
		return engine.Approve(ctx, st, *m, time.Now())
	}
}
