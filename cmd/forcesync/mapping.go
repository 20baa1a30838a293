package main

import (
	"fmt"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/salesforce"
	"github.com/spf13/cobra"
)

func init() { register(newMappingCmd) }

func newMappingCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "mapping", Short: "Work with mappings"}
	var cfgPath string
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check every mapping of a config against the org's describe, writing nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			if err := cfg.Resolve(env.Getenv); err != nil {
				return err
			}
			apis := map[string]*engine.SalesforceAPI{}
			var bad int
			for _, m := range cfg.Mappings {
				name := m.Connection
				if name == "" && len(cfg.Connections) > 0 {
					name = cfg.Connections[0].Name
				}
				api := apis[name]
				if api == nil {
					conn := cfg.Connection(name)
					if conn == nil {
						return forcesync.Errorf(forcesync.ENotFound, "mapping %s: connection %q is not defined", m.Name, name)
					}
					c, err := connect(cmd.Context(), env, *conn, salesforce.Hooks{})
					if err != nil {
						return fmt.Errorf("connection %s: %w", name, classify(err, forcesync.EInternal))
					}
					api = &engine.SalesforceAPI{Client: c}
					apis[name] = api
				}
				// Compiled as serve compiles it: a User mapping's profile
				// and role names are looked up in the org first.
				pipes, err := engine.Compile(cmd.Context(), api, []forcesync.Mapping{m})
				if err != nil {
					bad++
					fmt.Fprintf(env.Stdout, "FAIL %v\n", err)
					continue
				}
				fmt.Fprintf(env.Stdout, "ok   %s: %s -> %s (%d fields)\n", m.Name, m.Source, pipes[0].Describe.Name, len(m.Fields))
			}
			if bad > 0 {
				return forcesync.Errorf(forcesync.EInvalid, "%d mapping(s) cannot work against this org", bad)
			}
			return nil
		},
	}
	validate.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	cmd.AddCommand(validate)
	return cmd
}
