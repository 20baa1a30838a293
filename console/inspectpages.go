package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/forcesync/forcesync"
)

// The plan, reconcile, guard and pull pages: the console's view of the
// API's /plan, /reconcile, /guard and dead-letters routes, over the same
// engine functions (serve's Inspector) and store capabilities.

// planPage is what the next push would do, per mapping.
type planPage struct {
	Mappings []string
	Mapping  string
	Plans    []MappingPlan
}

// handlePlan serves GET /plan?mapping=M: the plan of one mapping, or of
// every mapping. It reads Salesforce and writes nothing.
func (c *Console) handlePlan(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Inspect == nil {
		c.serverError(w, r, errNotServed("the plan"))
		return
	}
	p := planPage{Mappings: c.mappingNames(), Mapping: r.URL.Query().Get("mapping")}
	var only []string
	if p.Mapping != "" {
		only = []string{p.Mapping}
	}
	plans, err := c.cfg.Inspect.Plan(r.Context(), only)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	p.Plans = plans
	c.render(w, r, http.StatusOK, "plan.html", &pageData{Title: "Plan", Nav: "plan", Page: p})
}

// reconcilePage lists reconcile runs, or one run's findings.
type reconcilePage struct {
	Mappings []string
	Runs     []forcesync.ReconcileRun
	Run      *forcesync.ReconcileRun
	Findings []forcesync.Finding
	CanRun   bool
}

func (c *Console) inspector() (forcesync.Inspector, bool) {
	return forcesync.StoreAs[forcesync.Inspector](c.cfg.Store)
}

// handleReconcile serves GET /reconcile: the newest runs with their
// counts of findings, and a form to reconcile a mapping now.
func (c *Console) handleReconcile(w http.ResponseWriter, r *http.Request) {
	in, ok := c.inspector()
	if !ok {
		c.serverError(w, r, errNotServed("reconcile"))
		return
	}
	runs, err := in.ReconcileRuns(r.Context(), "", 50)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "reconcile.html", &pageData{Title: "Reconcile", Nav: "reconcile",
		Page: reconcilePage{Mappings: c.mappingNames(), Runs: runs, CanRun: c.cfg.Inspect != nil}})
}

// handleReconcileRun serves GET /reconcile/{id}: one run's findings.
func (c *Console) handleReconcileRun(w http.ResponseWriter, r *http.Request) {
	in, ok := c.inspector()
	if !ok {
		c.serverError(w, r, errNotServed("reconcile"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "no reconcile run %q", r.PathValue("id")))
		return
	}
	runs, err := in.ReconcileRuns(r.Context(), "", 1000)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	p := reconcilePage{Mappings: c.mappingNames(), CanRun: c.cfg.Inspect != nil}
	for i := range runs {
		if runs[i].ID == id {
			p.Run = &runs[i]
		}
	}
	if p.Run == nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "no reconcile run %d among the newest 1,000", id))
		return
	}
	if p.Findings, err = in.Findings(r.Context(), id); err != nil {
		c.serverError(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "reconcile.html", &pageData{Title: "Reconcile run " + strconv.FormatInt(id, 10), Nav: "reconcile", Page: p})
}

// handleReconcileStart serves POST /reconcile: reconcile one mapping now,
// report only (healing stays with the CLI and the API, which take a cap).
func (c *Console) handleReconcileStart(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Inspect == nil {
		c.serverError(w, r, errNotServed("reconcile"))
		return
	}
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	m := r.PostForm.Get("mapping")
	if c.mappingByName(m) == nil {
		c.serverError(w, r, &forcesync.Error{Code: forcesync.EInvalid, Field: "mapping", Message: "choose a mapping of the config"})
		return
	}
	run, err := c.cfg.Inspect.Reconcile(r.Context(), m)
	if run == nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: reconcile", "user", user(r), "mapping", m, "run", run.ID, "err", err)
	http.Redirect(w, r, "/reconcile/"+strconv.FormatInt(run.ID, 10), http.StatusSeeOther)
}

// guardRow is one guarded name with what approving it does.
type guardRow struct {
	forcesync.GuardState
	Mapping  bool // a mapping of the config (approvable here)
	Approved bool // an approval is running now
}

// handleGuard serves GET /guard: the mass-change guard's state of every
// guarded name; a paused mapping has an Approve button.
func (c *Console) handleGuard(w http.ResponseWriter, r *http.Request) {
	sts, err := c.cfg.Store.GuardStates(r.Context())
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	now := c.cfg.Now()
	var rows []guardRow
	for _, st := range sts {
		rows = append(rows, guardRow{GuardState: st, Mapping: c.mappingByName(st.Name) != nil && c.cfg.Approve != nil,
			Approved: st.ApprovedUntil.After(now)})
	}
	d := &pageData{Title: "Mass-change guard", Nav: "guard", Page: rows}
	// The notice after approving comes back in the URL: say it only of a
	// mapping of the config and a count, so a crafted link cannot make the
	// page state anything else.
	q := r.URL.Query()
	if n, err := strconv.Atoi(q.Get("approved")); err == nil && n >= 0 && c.mappingByName(q.Get("mapping")) != nil {
		d.Message = "Approved " + q.Get("mapping") + ": " + strconv.Itoa(n) + " held records were queued again."
	}
	c.render(w, r, http.StatusOK, "guard.html", d)
}

// handleApprove serves POST /guard/approve: lift a mapping's pause.
func (c *Console) handleApprove(w http.ResponseWriter, r *http.Request) {
	if c.cfg.Approve == nil {
		c.serverError(w, r, errNotServed("approving"))
		return
	}
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	m := r.PostForm.Get("mapping")
	if c.mappingByName(m) == nil {
		c.serverError(w, r, &forcesync.Error{Code: forcesync.EInvalid, Field: "mapping", Message: "unknown mapping " + strconv.Quote(m)})
		return
	}
	n, err := c.cfg.Approve(r.Context(), m)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: mass change approved", "user", user(r), "mapping", m, "requeued", n)
	if c.cfg.Engine != nil {
		c.cfg.Engine.Notify()
	}
	http.Redirect(w, r, "/guard?approved="+strconv.Itoa(n)+"&mapping="+pathEscape(m), http.StatusSeeOther)
}

// pullMapping is one pulled mapping on the pull page.
type pullMapping struct {
	M           forcesync.Mapping
	Watermark   time.Time
	Webhook     bool
	DeadLetters []forcesync.Delivery
}

// pullPage is the pull side: watermarks, dead letters, a record's
// conflicts.
type pullPage struct {
	Mappings  []pullMapping
	Source    string
	Sources   []string
	Key       string
	Conflicts []forcesync.Conflict
	Looked    bool
}

// handlePull serves GET /pull?source=S&key=K: every pulled mapping with
// how far it read and its webhook dead letters; with a key, the conflicts
// of that record.
func (c *Console) handlePull(w http.ResponseWriter, r *http.Request) {
	ps, ok := forcesync.StoreAs[forcesync.PullStore](c.cfg.Store)
	if !ok {
		c.serverError(w, r, errNotServed("pulling"))
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	p := pullPage{Source: q.Get("source"), Key: q.Get("key")}
	for _, s := range c.cfg.Sources {
		p.Sources = append(p.Sources, s.Name)
	}
	for _, m := range c.cfg.Mappings {
		if !m.Pulls() {
			continue
		}
		pm := pullMapping{M: m, Webhook: m.Pull != nil && m.Pull.Has(forcesync.SinkWebhook)}
		wm, err := ps.Watermark(ctx, m.Name)
		if err != nil {
			c.serverError(w, r, err)
			return
		}
		pm.Watermark = wm.Instant
		if pm.Webhook && c.cfg.Pull != nil {
			if pm.DeadLetters, err = c.cfg.Pull.DeadLetters(ctx, m.Name, 100); err != nil {
				c.serverError(w, r, err)
				return
			}
		}
		p.Mappings = append(p.Mappings, pm)
	}
	if p.Key != "" && c.cfg.Pull != nil {
		if !c.knownSource(p.Source) {
			c.serverError(w, r, forcesync.Errorf(forcesync.ENotFound, "unknown source %q", p.Source))
			return
		}
		var err error
		if p.Conflicts, err = c.cfg.Pull.Conflicts(ctx, p.Source, p.Key); err != nil {
			c.serverError(w, r, err)
			return
		}
		p.Looked = true
	}
	d := &pageData{Title: "Pull", Nav: "pull", Page: p}
	if q.Get("done") == "redeliver" {
		n, _ := strconv.Atoi(q.Get("n"))
		d.Message = fmt.Sprintf("Put %d dead letters back for delivery; serve posts them again with their webhook-id.", n)
	}
	c.render(w, r, http.StatusOK, "pull.html", d)
}

// handleRedeliver serves POST /pull/redeliver: a pulled mapping's dead
// letters ("mapping"), the ones ticked ("seq", repeated) or, with the
// "all" button, every one, are put back for delivery.
func (c *Console) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "the form could not be read"))
		return
	}
	if c.cfg.Pull == nil {
		c.serverError(w, r, errNotServed("pulling"))
		return
	}
	m := c.mappingByName(r.PostForm.Get("mapping"))
	if m == nil || !m.Pulls() || m.Pull == nil || !m.Pull.Has(forcesync.SinkWebhook) {
		c.serverError(w, r, &forcesync.Error{Code: forcesync.ENotFound, Field: "mapping", Message: fmt.Sprintf("no pulled mapping %q with a webhook", r.PostForm.Get("mapping"))})
		return
	}
	var seqs []int64
	if r.PostForm.Get("all") == "" {
		for _, v := range r.PostForm["seq"] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				c.serverError(w, r, &forcesync.Error{Code: forcesync.EInvalid, Field: "seq", Message: fmt.Sprintf("%q is not an event's cursor", v)})
				return
			}
			seqs = append(seqs, n)
		}
		if len(seqs) == 0 {
			c.serverError(w, r, forcesync.Errorf(forcesync.EInvalid, "tick at least one dead letter, or redeliver all"))
			return
		}
	}
	n, err := c.cfg.Pull.Redeliver(r.Context(), m.Name, seqs)
	if err != nil {
		c.serverError(w, r, err)
		return
	}
	c.cfg.Logger.Info("console: redeliver", "user", user(r), "mapping", m.Name, "redelivered", n)
	http.Redirect(w, r, "/pull?done=redeliver&n="+strconv.Itoa(n)+"#pull-"+url.PathEscape(m.Name), http.StatusSeeOther)
}
