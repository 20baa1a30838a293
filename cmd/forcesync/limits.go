package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func init() { register(newLimitsCmd) }

func newLimitsCmd(env *Env) *cobra.Command {
	var conn string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "limits",
		Short: "Show the org's limits (Max and Remaining)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, _, err := openClient(ctx, env, conn)
			if err != nil {
				return err
			}
			limits, err := c.Limits(ctx)
			if err != nil {
				return classifyCall(err)
			}
			if asJSON {
				// Keys sorted by encoding/json: stable output for scripts.
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(limits)
			}
			names := make([]string, 0, len(limits))
			for n := range limits {
				names = append(names, n)
			}
			slices.Sort(names)
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMAX\tREMAINING\tUSED\t")
			for _, n := range names {
				l := limits[n]
				used := "-"
				if l.Max > 0 {
					used = fmt.Sprintf("%.1f%%", 100*float64(l.Max-l.Remaining)/float64(l.Max))
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", n, l.Max, l.Remaining, used)
			}
			return tw.Flush()
		},
	}
	connectionFlag(cmd, &conn)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
