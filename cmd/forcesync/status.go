package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
	"github.com/forcesync/forcesync/httpserver"
	"github.com/forcesync/forcesync/postgres"
	"github.com/forcesync/forcesync/sqlite"
	"github.com/spf13/cobra"
)

func init() { register(newStatusCmd) }

// statusReport is what `forcesync status` prints, also as JSON.
// Failures and runs have the shapes of the REST API's (GET
// /api/v1/failures, GET /api/v1/runs); every key is the API's snake_case.
type statusReport struct {
	Mappings []mappingStatus         `json:"mappings"`
	Failures []httpserver.StatusJSON `json:"failures"`
	Runs     []httpserver.RunJSON    `json:"runs"`
	Usage    []usageStatus           `json:"api_usage"`
	// Budget is each connection's budget governor state as last stored
	// by serve: pause, reason, expected resume.
	Budget []budgetStatus `json:"budget"`
	// Leaders are the leader leases: which replica runs which duty, and
	// the schedules' last and next firings (status_leaders.go).
	Leaders []leaderStatus `json:"leaders"`
}

type mappingStatus struct {
	Name    string                  `json:"name"`
	Backlog int                     `json:"backlog"`
	States  map[forcesync.State]int `json:"states"`
	// Paused is why a schema change paused the mapping, as serve stored it.
	Paused string `json:"paused,omitempty"`
	// Failing is set while every record of the mapping's latest runs
	// failed (forcesync.FailingRuns), as the console's overview says.
	Failing *mappingFailing `json:"failing,omitempty"`
}

// mappingFailing is a mapping whose pushes all fail: since when, over how
// many runs, and its newest failure.
type mappingFailing struct {
	Since     time.Time              `json:"since"`
	Runs      int                    `json:"runs"`
	LastError *forcesync.RecordError `json:"last_error,omitempty"`
}

// usageStatus is a connection's API usage (forcesync.APIUsage) in the
// report.
type usageStatus struct {
	Connection string `json:"connection"`
	// Used and Max are the org's rolling 24-hour figures; 0 before the
	// first call reported them.
	Used int `json:"used"`
	Max  int `json:"max"`
	// Calls are the calls forcesync itself made today, by kind.
	Calls map[string]int `json:"calls,omitempty"`
	// At is when the figures were taken, omitted before any.
	At time.Time `json:"at,omitzero"`
}

// budgetStatus is a connection's budget governor state
// (forcesync.BudgetState) in the report, named as GET /healthz names it.
type budgetStatus struct {
	Connection string `json:"connection"`
	// Paused lists the lanes that may not spend now; omitted while running.
	Paused   []string  `json:"paused,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Since    time.Time `json:"since,omitzero"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
	Own      int       `json:"own_calls_24h"`
	Budget   int       `json:"budget"`
	OrgUsed  int       `json:"org_used"`
	OrgMax   int       `json:"org_max"`
	Updated  time.Time `json:"updated"`
}

func newStatusCmd(env *Env) *cobra.Command {
	var cfgPath string
	var asJSON bool
	var failures int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each mapping's record states, recent failures, runs and API usage",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := loadStatus(cmd.Context(), env, cfgPath, failures)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			printStatus(env, rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "forcesync.yaml", "config file")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&failures, "failures", 20, "how many recent failures to list")
	return cmd
}

// openStore opens the store a config names, without connecting to Salesforce.
func openStore(ctx context.Context, env *Env, path string) (*config.Config, forcesync.Store, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Store.PostgresDSNEnv != "" {
		// Only the store's secret is needed here, not the connections'.
		if cfg.Store.PostgresDSN = env.Getenv(cfg.Store.PostgresDSNEnv); cfg.Store.PostgresDSN == "" {
			return nil, nil, fmt.Errorf("store: environment variable %s (the PostgreSQL DSN) is not set", cfg.Store.PostgresDSNEnv)
		}
	}
	st, err := openConfigStore(ctx, cfg, path)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openConfigStore opens the store of a config loaded from path: PostgreSQL
// when it names a DSN, else the SQLite file, a relative name taken relative
// to the config file.
func openConfigStore(ctx context.Context, cfg *config.Config, path string) (forcesync.Store, error) {
	if cfg.Store.PostgresDSN != "" {
		return postgres.Open(ctx, cfg.Store.PostgresDSN, postgres.Options{Schema: cfg.Store.PostgresSchema})
	}
	db := cfg.Store.SQLite
	if db == "" {
		db = "forcesync.db"
	}
	if !filepath.IsAbs(db) {
		db = filepath.Join(filepath.Dir(path), db)
	}
	return sqlite.Open(ctx, db, sqlite.Options{})
}

func loadStatus(ctx context.Context, env *Env, path string, failures int) (*statusReport, error) {
	cfg, st, err := openStore(ctx, env, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rep := &statusReport{Failures: []httpserver.StatusJSON{}, Runs: []httpserver.RunJSON{}}
	pauses := map[string]string{}
	if sp, ok := forcesync.StoreAs[forcesync.SchemaPauses](st); ok {
		ps, err := sp.SchemaPauses(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			pauses[p.Mapping] = p.Reason + " (since " + p.Since.UTC().Format(time.RFC3339) + ")"
		}
	}
	recent, err := st.Runs(ctx, 500) // enough to see how long a mapping has been failing
	if err != nil {
		return nil, err
	}
	for _, m := range cfg.Mappings {
		counts, err := st.Counts(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		n, err := st.Backlog(ctx, m.Name)
		if err != nil {
			return nil, err
		}
		ms := mappingStatus{Name: m.Name, Backlog: n, States: counts, Paused: pauses[m.Name]}
		if runs, since := forcesync.FailingRuns(recent, m.Name); runs > 0 {
			ms.Failing = &mappingFailing{Since: since, Runs: runs}
			fs, err := st.List(ctx, forcesync.StatusFilter{Mapping: m.Name, States: []forcesync.State{forcesync.StateRetrying, forcesync.StateHeld}, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(fs) > 0 {
				ms.Failing.LastError = fs[0].Error
			}
		}
		rep.Mappings = append(rep.Mappings, ms)
	}
	if failures > 0 {
		fs, err := st.List(ctx, forcesync.StatusFilter{States: []forcesync.State{forcesync.StateHeld, forcesync.StateRetrying}, Limit: failures})
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			rep.Failures = append(rep.Failures, httpserver.ToStatusJSON(f, true))
		}
	}
	runs, err := st.Runs(ctx, 10)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		rep.Runs = append(rep.Runs, httpserver.ToRunJSON(r))
	}
	for _, c := range cfg.Connections {
		u, err := st.APIUsage(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		rep.Usage = append(rep.Usage, usageStatus{Connection: u.Connection, Used: u.Used, Max: u.Max, Calls: u.Calls, At: u.At})
		b, err := st.BudgetState(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		if b != nil {
			rep.Budget = append(rep.Budget, budgetStatus{Connection: b.Connection, Paused: b.Paused, Reason: b.Reason, Since: b.Since,
				ResumeAt: b.ResumeAt, Own: b.Own, Budget: b.Budget, OrgUsed: b.OrgUsed, OrgMax: b.OrgMax, Updated: b.Updated})
		}
	}
	if rep.Leaders, err = loadLeaders(ctx, cfg, st, time.Now()); err != nil {
		return nil, err
	}
	return rep, nil
}

func printStatus(env *Env, rep *statusReport) {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	// Every state a record can be in has its column, the lifecycle's too:
	// a disabled, deprovisioned or converted record left out would make the
	// columns add up to less than the mapping's records.
	fmt.Fprintln(w, "MAPPING\tQUEUED\tPENDING\tSYNCED\tRETRYING\tHELD\tSKIPPED\tDELETED\tDISABLED\tDEPROVISIONED\tCONVERTED")
	for _, m := range rep.Mappings {
		s := m.States
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", m.Name, m.Backlog, s[forcesync.StatePending], s[forcesync.StateSynced],
			s[forcesync.StateRetrying], s[forcesync.StateHeld], s[forcesync.StateSkipped], s[forcesync.StateDeleted],
			s[forcesync.StateDisabled], s[forcesync.StateDeprovisioned], s[forcesync.StateConverted])
	}
	w.Flush()
	for _, m := range rep.Mappings {
		if m.Paused != "" {
			fmt.Fprintf(env.Stdout, "\nMapping %s is paused: %s\n", m.Name, m.Paused)
		}
		if f := m.Failing; f != nil {
			fmt.Fprintf(env.Stdout, "\nMapping %s is failing: every record of its last %d runs failed, since %s", m.Name, f.Runs,
				f.Since.UTC().Format(time.RFC3339))
			if f.LastError != nil {
				fmt.Fprintf(env.Stdout, "; last error %s: %s", f.LastError.Code, oneLine(f.LastError.Message, 120))
			}
			fmt.Fprintln(env.Stdout)
		}
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintln(env.Stdout, "\nRecent failures:")
		w = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "MAPPING\tKEY\tSTATE\tERROR\tFIELDS\tMESSAGE")
		for _, f := range rep.Failures {
			code, msg, fields := "", "", ""
			if f.Error != nil {
				code, msg, fields = f.Error.Code, f.Error.Message, strings.Join(f.Error.Fields, ",")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Mapping, f.Key, f.State, code, fields, oneLine(msg, 80))
		}
		w.Flush()
	}
	if len(rep.Runs) > 0 {
		fmt.Fprintln(env.Stdout, "\nRecent runs:")
		w = tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tMAPPING\tAPI\tRECORDS\tCREATED\tUPDATED\tDELETED\tFAILED\tSKIPPED\tCALLS\tFINISHED")
		for _, r := range rep.Runs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Mapping, r.API, r.Records, r.Created, r.Updated,
				r.Deleted, r.Failed, r.Skipped, r.APICalls, r.Finished.Format("2006-01-02 15:04:05Z07:00"))
		}
		w.Flush()
	}
	for _, u := range rep.Usage {
		if u.Max > 0 {
			fmt.Fprintf(env.Stdout, "\nAPI usage of %s: %d of %d daily calls (%.1f%%)\n", u.Connection, u.Used, u.Max, 100*float64(u.Used)/float64(u.Max))
		}
	}
	for _, b := range rep.Budget {
		printBudget(env, b)
	}
	printLeaders(env, rep.Leaders)
}

// printBudget shows the budget governor's state of one connection.
func printBudget(env *Env, b budgetStatus) {
	fmt.Fprintf(env.Stdout, "API budget of %s: forcesync made %d of its %d calls in the last 24 hours (as of %s)\n",
		b.Connection, b.Own, b.Budget, b.Updated.Format(time.RFC3339))
	if len(b.Paused) == 0 {
		return
	}
	fmt.Fprintf(env.Stdout, "PAUSED (%s) since %s: %s\n", strings.Join(b.Paused, ", "), b.Since.Format(time.RFC3339), b.Reason)
	if !b.ResumeAt.IsZero() {
		fmt.Fprintf(env.Stdout, "  expected to resume at %s\n", b.ResumeAt.Format(time.RFC3339))
	}
}

// oneLine shortens s to n runes on one line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
