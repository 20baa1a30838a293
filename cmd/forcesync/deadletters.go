package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
	"github.com/spf13/cobra"
)

func init() { register(newDeadLettersCmd) }

// newDeadLettersCmd: forcesync dead-letters MAPPING lists the webhook
// deliveries of a pulled mapping that gave up (newest first); with
// --redeliver it puts them back on their way (those --seq names, or all),
// pending and due now with their attempts counted afresh. A running serve
// sharing the store posts them within its next round (about a second),
// counted in its forcesync_webhook_deliveries_total like any attempt.
func newDeadLettersCmd(env *Env) *cobra.Command {
	var cfgPath string
	var redeliver bool
	var seqs []int64
	var limit int
	cmd := &cobra.Command{
		Use:   "dead-letters MAPPING",
		Short: "List a pulled mapping's webhook dead letters, or deliver them again (--redeliver)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(seqs) > 0 && !redeliver {
				return forcesync.Errorf(forcesync.EInvalid, "--seq names dead letters to deliver again: give --redeliver with it")
			}
			for _, seq := range seqs {
				if seq <= 0 {
					return &forcesync.Error{Code: forcesync.EInvalid, Field: "--seq", Message: fmt.Sprintf("%d is not an event seq (numbers from 1)", seq)}
				}
			}
			if limit < 1 || limit > 10000 {
				return &forcesync.Error{Code: forcesync.EInvalid, Field: "--limit", Message: "want a number from 1 to 10000"}
			}
			cfg, st, err := openStore(cmd.Context(), env, cfgPath)
			if err != nil {
				return err
			}
			defer st.Close()
			ps, ok := st.(forcesync.PullStore)
			if !ok {
				return fmt.Errorf("store %T keeps no pulled changes", st)
			}
			feed := pull.NewFeed(ps, cfg.Mappings)
			mapping := args[0]
			if redeliver {
				n, err := feed.Redeliver(cmd.Context(), mapping, seqs)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s: %d dead letters put back for delivery; a running serve posts them within a second\n", mapping, n)
				return nil
			}
			if err := feed.Webhook(mapping); err != nil {
				return err // not a webhook mapping: say so rather than list nothing
			}
			ds, err := feed.DeadLetters(cmd.Context(), mapping, limit)
			if err != nil {
				return err
			}
			if len(ds) == 0 {
				fmt.Fprintf(env.Stdout, "%s: no dead letters\n", mapping)
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tKEY\tOP\tATTEMPTS\tLAST ERROR\tEVENT ID")
			for _, d := range ds {
				ev := d.Change
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", ev.Seq, ev.Key, ev.Op, d.Attempts, oneLine(d.LastError, 120), ev.EventID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	cmd.Flags().BoolVar(&redeliver, "redeliver", false, "put the dead letters back for delivery (all of the mapping's, or those --seq names)")
	cmd.Flags().Int64SliceVar(&seqs, "seq", nil, "with --redeliver: the seq of an event to deliver again (repeatable)")
	cmd.Flags().IntVar(&limit, "limit", 100, "how many dead letters to list, newest first (1..10000)")
	return cmd
}
