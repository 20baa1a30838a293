package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

func init() { register(newAdminCmd) }

func newAdminCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Manage admins of the console", Args: cobra.NoArgs}
	cost := bcrypt.DefaultCost
	hash := &cobra.Command{
		Use:   "hash-password",
		Short: "Print a bcrypt hash of a password for console.admins[].password_hash",
		Long: `Reads a password (typed without echo on a terminal, or the first line of
standard input) and prints its bcrypt hash, to paste into the config:

  console:
    admins:
      - username: alice
        password_hash: '$2a$10$...'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := hashPassword(env, cost)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, h)
			return nil
		},
	}
	hash.Flags().IntVar(&cost, "cost", bcrypt.DefaultCost, "bcrypt cost (work factor)")
	cmd.AddCommand(hash)
	addAdminStoreCmds(env, cmd) // admin_store.go: add, list, remove, passwd
	return cmd
}

// hashPassword reads a password (readPassword) and returns its bcrypt hash
// at cost, refusing a cost out of range and a password bcrypt cannot take
// or too short to be one.
func hashPassword(env *Env, cost int) (string, error) {
	if cost < bcrypt.DefaultCost || cost > 14 {
		return "", usageError{fmt.Errorf("--cost %d: want %d to 14", cost, bcrypt.DefaultCost)}
	}
	pass, err := readPassword(env)
	if err != nil {
		return "", err
	}
	if len(pass) < 8 {
		return "", errors.New("the password is shorter than 8 characters")
	}
	if len(pass) > 72 {
		return "", errors.New("the password is longer than 72 bytes, which bcrypt cannot hash")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pass), cost)
	return string(h), err
}

// readPassword reads without echo from a terminal, else one line of stdin.
func readPassword(env *Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
