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
// MAPPING may be one removed from the config whose records wait to be
// deprovisioned; --keep keeps those records instead.
func newApproveCmd(env *Env) *cobra.Command {
	var cfgPath string
	var keep bool
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
			if keep {
				if err := keeper(st, cfg)(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "kept %s: its Salesforce records and bindings stay as they are\n", args[0])
				return nil
			}
			n, err := approver(st, cfg)(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "approved %s: %d records requeued\n", args[0], n)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	cmd.Flags().BoolVar(&keep, "keep", false, "for a mapping removed from the config: keep its records instead of deprovisioning them")
	return cmd
}

// approver returns the approve action over a store and a config.
func approver(st forcesync.Store, cfg *config.Config) func(ctx context.Context, mapping string) (int, error) {
	return func(ctx context.Context, mapping string) (int, error) {
		m := cfg.Mapping(mapping)
		if m == nil {
			// A mapping removed from the config, its records waiting.
			rm, err := engine.RemovedMapping(ctx, st, mapping)
			if err != nil {
				return 0, err
			}
			if rm == nil {
				return 0, forcesync.Errorf(forcesync.ENotFound, "unknown mapping %q", mapping)
			}
			m = rm
		}
		return engine.Approve(ctx, st, *m, time.Now())
	}
}

// keeper returns the keep action: the records of a mapping removed from
// the config stay as they are.
func keeper(st forcesync.Store, cfg *config.Config) func(ctx context.Context, mapping string) error {
	return func(ctx context.Context, mapping string) error {
		if cfg.Mapping(mapping) != nil {
			return forcesync.Errorf(forcesync.EInvalid, "mapping %q is in the config; keeping records (--keep, or ?keep=true on the API) applies only to a mapping removed from it", mapping)
		}
		return engine.KeepRemoved(ctx, st, mapping)
	}
}
