// Command forcesync is forcesync's one binary: the engine, its doors, the
// emulator and the CLI.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfiles := startProfiles()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stopProfiles()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "forcesync:", err)
		os.Exit(exitCode(err))
	}
}

// Env is what every subcommand may touch of the outside world. Tests build
// one with their own values and call run directly.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}
