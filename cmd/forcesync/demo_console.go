package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/httpserver"
	"golang.org/x/crypto/bcrypt"
)

// demoServe serves the console and the REST API of the demo on loopback
// with a one-time admin password, until stop is called.
func demoServe(ctx context.Context, env *Env, cfg *config.Config, st forcesync.Store, eng *engine.Engine) (url, password string, stop func(), err error) {
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", "", nil, err
	}
	password = base64.RawURLEncoding.EncodeToString(raw)
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", "", nil, err
	}
	cfg.Console.Admins = []config.Admin{{Username: "admin", PasswordHash: string(hash)}}
	logger := slog.New(slog.DiscardHandler)
	ui, err := newConsole(env, cfg, st, []*engine.Engine{eng}, logger, consoleExtras{})
	if err != nil {
		return "", "", nil, err
	}
	var sources []string
	for _, s := range cfg.Sources {
		sources = append(sources, s.Name)
	}
	api := httpserver.New(httpserver.Config{Store: st, Engine: engines{eng}, Sources: sources, Console: ui, Logger: logger})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	stop = func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	return "http://" + ln.Addr().String() + "/", password, stop, nil
}
