package main

import (
	"log/slog"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/console"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/mapping"
)

// newConsole builds the admin console served under / by serve and demo.
func newConsole(cfg *config.Config, st forcesync.Store, es []*engine.Engine, logger *slog.Logger) (*console.Console, error) {
	cc := console.Config{Store: st, Engine: engines(es), Mappings: cfg.Mappings, Connections: cfg.Connections,
		APIShare: cfg.Engine.APIShare, SessionTTL: cfg.Console.SessionTTL, Compiled: map[string]*mapping.Compiled{},
		Logger: logger.With("door", "console")}
	for _, a := range cfg.Console.Admins {
		cc.Admins = append(cc.Admins, console.Admin{Username: a.Username, PasswordHash: a.PasswordHash})
	}
	for _, s := range cfg.Sources {
		cc.Sources = append(cc.Sources, console.Source{Name: s.Name, Description: s.Description})
	}
	for _, e := range es {
		for _, p := range e.Pipes() {
			cc.Compiled[p.Mapping.Name] = p.Compiled
		}
	}
	return console.New(cc)
}
