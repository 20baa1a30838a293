package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/forcesync/forcesync/emulator"
)

func init() { register(newEmulatorCmd) }

// emulatorFlags are the options of `forcesync emulator`.
type emulatorFlags struct {
	addr, tlsAddr, certFile string
	dataFile, configFile    string
	autoApprove, remote     bool
	accessLog               bool
	// Bulk pacing (emulator.Config.BulkRecordsPerSecond, BulkStartDelay).
	bulkRate  float64
	bulkDelay time.Duration
}

func newEmulatorCmd(env *Env) *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve a local Salesforce org (OAuth, REST, SOQL, SOSL, Bulk API 2.0 and 1.0) for development and tests",
		Long: `Serve a Salesforce org in a box on loopback: the OAuth endpoints with a login
page, the REST API, SOQL and SOSL queries, sObject Collections, Composite and
Bulk API 2.0 and 1.0.
Real clients (forcesync, jsforce, the sf CLI) use it unmodified.

The org has the connected app forcesync-demo (secret forcesync-demo-secret), the
sf CLI's public client PlatformCLI and the user admin@forcesync.local (password
forcesync). --config adds connected apps, users, custom objects and fields.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmulator(cmd.Context(), env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:7400", "HTTP listen address (loopback; port 0 picks a free port)")
	fl.StringVar(&f.tlsAddr, "tls-addr", "", "also serve HTTPS here with a self-signed loopback certificate, e.g. 127.0.0.1:7443")
	fl.StringVar(&f.certFile, "cert-file", "", "where to write the TLS certificate (PEM); default forcesync-emulator.pem in the temp directory")
	fl.StringVar(&f.dataFile, "data", "", "keep the org's state in this file across restarts")
	fl.StringVar(&f.configFile, "config", "", "YAML file of connected apps, users, custom objects and fields, daily API allowance, session timeout")
	fl.BoolVar(&f.autoApprove, "auto-approve", false, "approve OAuth authorize requests at once, without the login page (automation)")
	fl.Float64Var(&f.bulkRate, "bulk-records-per-second", 0, "pace Bulk jobs at this many records a second so InProgress is seen (0: as fast as possible; overrides the config file)")
	fl.DurationVar(&f.bulkDelay, "bulk-start-delay", 0, "how long a closed Bulk job waits before processing starts (overrides the config file)")
	fl.BoolVar(&f.accessLog, "access-log", false, "print a line per request on stderr: start time, method, path (no query), status, bytes, duration")
	fl.BoolVar(&f.remote, "allow-remote", false, "allow listening on non-loopback addresses (the emulator has well-known passwords)")
	return cmd
}

// checkLoopback refuses addresses other machines can reach, unless allowed:
// the emulator's logins are printed on every start.
func checkLoopback(flag, addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{fmt.Errorf("--%s %q: %w", flag, addr, err)}
	}
	if allowRemote {
		return nil
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usageError{fmt.Errorf("--%s %q is not a loopback address; use 127.0.0.1, or pass --allow-remote", flag, addr)}
}

func runEmulator(ctx context.Context, env *Env, f emulatorFlags) error {
	if err := checkLoopback("addr", f.addr, f.remote); err != nil {
		return err
	}
	if f.tlsAddr != "" {
		if err := checkLoopback("tls-addr", f.tlsAddr, f.remote); err != nil {
			return err
		}
	}
	var cfg emulator.Config
	if f.configFile != "" {
		c, err := emulator.LoadConfig(f.configFile)
		if err != nil {
			return err
		}
		cfg = c
	}
	cfg.DataFile = f.dataFile
	if f.bulkRate < 0 || f.bulkDelay < 0 {
		return usageError{errors.New("--bulk-records-per-second and --bulk-start-delay must not be negative")}
	}
	if f.bulkRate > 0 {
		cfg.BulkRecordsPerSecond = f.bulkRate
	}
	if f.bulkDelay > 0 {
		cfg.BulkStartDelay = f.bulkDelay
	}
	cfg.AutoApprove = cfg.AutoApprove || f.autoApprove

	em, err := emulator.New(cfg)
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = em.Close()
		return fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	var tlsLn net.Listener
	certFile := f.certFile
	if f.tlsAddr != "" {
		if certFile == "" {
			certFile = filepath.Join(os.TempDir(), "forcesync-emulator.pem")
		}
		tc, err := emulator.LoopbackTLS(certFile, time.Now())
		if err == nil {
			tlsLn, err = net.Listen("tcp", f.tlsAddr)
		}
		if err != nil {
			ln.Close()
			_ = em.Close()
			return fmt.Errorf("TLS listener on %s: %w", f.tlsAddr, err)
		}
		tlsLn = tls.NewListener(tlsLn, tc)
	}

	base := "http://" + ln.Addr().String()
	printEmulatorBanner(env.Stdout, base, cfg, tlsLn, certFile)

	var h http.Handler = em
	if f.accessLog {
		h = accessLog(env.Stderr, em)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, MaxHeaderBytes: emulator.MaxHeaderBytes}
	g, gctx := errgroup.WithContext(ctx)
	serve := func(l net.Listener) func() error {
		return func() error {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	}
	g.Go(serve(ln))
	if tlsLn != nil {
		g.Go(serve(tlsLn))
	}
	g.Go(func() error {
		<-gctx.Done()
		// Ctrl-C or a listener failure: finish requests in flight, then stop.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	err = g.Wait()
	if cerr := em.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("save emulator state: %w", cerr)
	}
	if err != nil {
		return err
	}
	if f.dataFile != "" {
		fmt.Fprintf(env.Stdout, "emulator stopped; state saved to %s\n", f.dataFile)
	} else {
		fmt.Fprintln(env.Stdout, "emulator stopped")
	}
	return nil
}

// printEmulatorBanner tells the user how to reach and log in to the emulator.
func printEmulatorBanner(w io.Writer, base string, cfg emulator.Config, tlsLn net.Listener, certFile string) {
	password := emulator.DefaultPassword
	for _, u := range cfg.Users {
		if strings.EqualFold(u.Username, emulator.DefaultUsername) && u.Password != "" {
			password = u.Password
		}
	}
	login := base + "/services/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {emulator.DemoClientID},
		"redirect_uri": {"http://localhost:1717/OauthRedirect"},
	}.Encode()
	fmt.Fprintf(w, "Salesforce emulator listening on %s\n", base)
	if tlsLn != nil {
		tlsBase := "https://" + tlsLn.Addr().String()
		fmt.Fprintf(w, "  https:         %s (self-signed certificate in %s)\n", tlsBase, certFile)
		fmt.Fprintf(w, "  trust it with: NODE_EXTRA_CA_CERTS=%s (Node, sf CLI), curl --cacert %s, SSL_CERT_FILE=%s (Go, OpenSSL)\n", certFile, certFile, certFile)
	}
	fmt.Fprintf(w, "  login URL:     %s\n", login)
	fmt.Fprintf(w, "  client id:     %s\n", emulator.DemoClientID)
	fmt.Fprintf(w, "  client secret: %s\n", emulator.DemoClientSecret)
	fmt.Fprintf(w, "  username:      %s\n", emulator.DefaultUsername)
	fmt.Fprintf(w, "  password:      %s\n", password)
	if cfg.AutoApprove {
		fmt.Fprintln(w, "  auto-approve:  on (authorize redirects at once with a code)")
	}
	fmt.Fprintf(w, "  try:           curl -s %s/services/oauth2/token -d grant_type=password -d client_id=%s -d client_secret=%s -d username=%s -d password=%s\n",
		base, emulator.DemoClientID, emulator.DemoClientSecret, emulator.DefaultUsername, password)
}

// accessLog writes a line per request to w once it is answered: when it
// started, method, path (the query is left out: OAuth codes travel there),
// status, bytes answered and how long it took. It shows what a client
// calls and when, to debug a client or time its phases.
func accessLog(w io.Writer, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		cw := &countingWriter{ResponseWriter: rw, status: http.StatusOK}
		next.ServeHTTP(cw, r)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s %s %d %dB %s\n", start.Format("15:04:05.000"), r.Method, r.URL.Path, cw.status, cw.n,
			time.Since(start).Round(time.Millisecond))
	})
}

// countingWriter notes the status and size of an answer.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
