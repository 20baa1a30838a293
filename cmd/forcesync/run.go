package main

import (
	"context"
	"io"

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
	return root.ExecuteContext(ctx)
}

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }
