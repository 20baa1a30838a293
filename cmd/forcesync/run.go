package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// subcommands holds the constructors of every subcommand; each subcommand's
// file adds itself in an init function, so files never edit each other.
var subcommands []func(env *Env) *cobra.Command

func register(f func(env *Env) *cobra.Command) { subcommands = append(subcommands, f) }

// run is the whole program: main only calls it, and tests call it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := &cobra.Command{
		Use:           "forcesync",
		Short:         "Keep your application's people in Salesforce",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// A flag cobra cannot parse is a usage mistake (exit 2), like the
	// ones the subcommands find themselves.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	byName := map[string]*cobra.Command{}
	for _, f := range subcommands {
		c := f(env)
		// Files may each add subcommands under one parent (connection pin,
		// connection test): a parent that only groups is merged into the
		// first of its name.
		if first, ok := byName[c.Name()]; ok && c.RunE == nil && first.RunE == nil {
			first.AddCommand(c.Commands()...)
			continue
		}
		byName[c.Name()] = c
		root.AddCommand(c)
	}
	usageArgs(root)
	return root.ExecuteContext(ctx)
}

// usageArgs makes the positional-argument checks of c and its subcommands
// usage mistakes (exit 2) that name the command and its usage line, as
// cobra's own errors ("accepts 1 arg(s), received 0") name neither. A
// command that only groups others (forcesync, connection) prints its help
// when called alone and refuses a subcommand it does not have.
func usageArgs(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if cmd.SuggestionsMinimumDistance <= 0 {
				cmd.SuggestionsMinimumDistance = 2
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageError{errors.New(msg)}
		}
	} else if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{fmt.Errorf("%s: %w (usage: %s)", cmd.CommandPath(), err, cmd.UseLine())}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
