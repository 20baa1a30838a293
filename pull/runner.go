package pull

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/salesforce"
)

// Feed is the changes feed's view of the store for the HTTP API: the
// pulled changes of the mappings that list the changes sink, and a signal
// when new ones may have arrived (for long polls).
type Feed struct {
	store    forcesync.PullStore
	mappings []string
	bySource map[string][]string
	webhooks map[string]bool // the mappings with a webhook sink
	known    map[string]bool // every mapping of the config
	// Logger logs the redeliveries asked for; nil logs nothing.
	Logger *slog.Logger
	// Now is the time of a redelivery; nil means time.Now.
	Now func() time.Time

	mu          sync.Mutex
	ch          chan struct{}
	redelivered map[string]int64 // dead letters put back, by mapping
}

// NewFeed serves the changes of the pulled mappings that list the changes
// sink, and the conflicts of every pulled mapping.
func NewFeed(store forcesync.PullStore, mappings []forcesync.Mapping) *Feed {
	f := &Feed{store: store, mappings: []string{}, bySource: map[string][]string{}, webhooks: map[string]bool{},
		known: map[string]bool{}, ch: make(chan struct{}), redelivered: map[string]int64{}}
	for _, m := range mappings {
		f.known[m.Name] = true
		if !m.Pulls() {
			continue
		}
		f.bySource[m.Source] = append(f.bySource[m.Source], m.Name)
		f.webhooks[m.Name] = m.PullSettings().Has(forcesync.SinkWebhook)
		if m.PullSettings().Has(forcesync.SinkChanges) {
			f.mappings = append(f.mappings, m.Name)
		}
	}
	return f
}

// Changes lists pulled changes after a cursor (a Seq).
func (f *Feed) Changes(ctx context.Context, after int64, limit int) ([]forcesync.PulledChange, error) {
	return f.store.Changes(ctx, after, limit, f.mappings)
}

// Conflicts lists the conflicts recorded for a source record, every
// pulled mapping of its source.
func (f *Feed) Conflicts(ctx context.Context, source, key string) ([]forcesync.Conflict, error) {
	out := []forcesync.Conflict{}
	for _, m := range f.bySource[source] {
		cs, err := f.store.Conflicts(ctx, m, key)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// DeadLetters lists a pulled mapping's webhook deliveries that gave up.
func (f *Feed) DeadLetters(ctx context.Context, mapping string, limit int) ([]forcesync.Delivery, error) {
	if err := f.Webhook(mapping); err != nil {
		return nil, err // unknown, or no webhook: say so rather than list nothing
	}
	return f.store.DeadLetters(ctx, WebhookSink(mapping), limit)
}

// Redeliver puts a pulled mapping's dead letters back on their way to its
// webhook (those of the events seqs names; all when seqs is empty) and
// wakes the deliverers; the replica holding the mapping's deliver lease
// posts them, each attempt counted as any other. It returns how many it
// put back; ENotFound for a mapping that pulls no webhook.
//
// A redelivered event may reach the receiver after later events of the
// same record that were delivered meanwhile: their seq tells them apart.
func (f *Feed) Redeliver(ctx context.Context, mapping string, seqs []int64) (int, error) {
	if err := f.Webhook(mapping); err != nil {
		return 0, err
	}
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	n, err := f.store.Redeliver(ctx, WebhookSink(mapping), seqs, now())
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	f.redelivered[mapping] += int64(n)
	f.mu.Unlock()
	if f.Logger != nil {
		f.Logger.Info("dead letters put back for delivery", "event", "webhook.redeliver", "mapping", mapping,
			"redelivered", n, "asked", len(seqs))
	}
	if n > 0 {
		f.Notify()
	}
	return n, nil
}

// Webhook says, with an ENotFound error, why a mapping has no webhook
// deliveries: the config has no such mapping, it does not pull, or it
// pulls into no webhook. Nil when it has.
func (f *Feed) Webhook(mapping string) error {
	hook, pulled := f.webhooks[mapping]
	switch {
	case !f.known[mapping]:
		return forcesync.Errorf(forcesync.ENotFound, "no mapping %q in the config", mapping)
	case !pulled:
		return forcesync.Errorf(forcesync.ENotFound, "mapping %q does not pull from Salesforce", mapping)
	case !hook:
		return forcesync.Errorf(forcesync.ENotFound, "mapping %q has no webhook in pull.into", mapping)
	}
	return nil
}

// Redelivered counts the dead letters Redeliver put back, by mapping,
// since the Feed was made.
func (f *Feed) Redelivered() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.redelivered))
	for k, v := range f.redelivered {
		out[k] = v
	}
	return out
}

// Changed returns a channel closed when changes may have arrived since.
func (f *Feed) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

// Notify wakes every waiter of Changed.
func (f *Feed) Notify() {
	f.mu.Lock()
	close(f.ch)
	f.ch = make(chan struct{})
	f.mu.Unlock()
}

// Runner polls each puller every poll_interval and runs the webhook
// deliverers, until its context ends.
type Runner struct {
	Pullers    []*Puller
	Deliverers []*Deliverer
	Feed       *Feed
	// OnPulled is called after a poll that changed source records (serve
	// wakes the pushers with it); may be nil.
	OnPulled func()
	// Retry is how often deliverers look for retries that came due;
	// zero means one second.
	Retry time.Duration
	// PruneEvery is how often pulled changes older than each mapping's
	// pull.retention are pruned; zero means hourly (and at start).
	PruneEvery time.Duration
	Logger     *slog.Logger
	// Polled, when set, is called after every poll (tests wait on it).
	Polled func(mapping string, st Stats, err error)
	// Lead, when set, runs each puller and each deliverer only while this
	// replica leads it (serve holds a leader lease named "pull:<mapping>"
	// or "deliver:<sink>" in the store; see package schedule): replicas
	// sharing a store poll a mapping once per poll_interval in all, and
	// post each webhook from one replica. nil runs them all here.
	Lead func(ctx context.Context, name string, run func(ctx context.Context))

	mu     sync.Mutex
	counts map[string]*PullCounts // by mapping
}

// PullCounts is what a Runner counted of one pulled mapping since it
// started (for the metrics).
type PullCounts struct {
	// Polls by outcome: PollOK, PollFailed, PollHeld, PollPaused.
	Polls map[string]int64
	// Records by what the polls did with them: "changed", "echo",
	// "created", "restored", "deleted", "merged", "converted", "conflict".
	Records map[string]int64
	// LastOK is when a poll last succeeded; zero when none did yet.
	LastOK time.Time
	// Deliveries counts the attempts of the mapping's webhook by outcome
	// (Deliverer.Counts); nil without a webhook.
	Deliveries map[string]int64
	// DeliveryStalls counts the webhook's delivery rounds stopped because
	// the receiver did not answer (Deliverer.Stalls).
	DeliveryStalls int64
}

// Poll outcomes, as PullCounts reports them.
const (
	PollOK     = "ok"     // read and committed (or overtaken by a replica)
	PollFailed = "failed" // Salesforce or the store failed; the next poll tries again from the watermark
	PollHeld   = "held"   // a schema change holds the mapping: no call
	PollPaused = "paused" // the API budget pauses calls: no call
)

// Counts returns what the runner counted, by mapping.
func (r *Runner) Counts() map[string]PullCounts {
	r.mu.Lock()
	out := make(map[string]PullCounts, len(r.Pullers))
	for _, p := range r.Pullers {
		name := p.Mapping().Name
		c := PullCounts{Polls: map[string]int64{}, Records: map[string]int64{}}
		if got := r.counts[name]; got != nil {
			c.LastOK = got.LastOK
			for k, v := range got.Polls {
				c.Polls[k] = v
			}
			for k, v := range got.Records {
				c.Records[k] = v
			}
		}
		out[name] = c
	}
	r.mu.Unlock()
	for _, d := range r.Deliverers {
		name := strings.TrimPrefix(d.Sink, "webhook:")
		if c, ok := out[name]; ok {
			c.Deliveries = d.Counts()
			c.DeliveryStalls = d.Stalls()
			out[name] = c
		}
	}
	return out
}

// count adds one poll's outcome to the mapping's counts.
func (r *Runner) count(name, outcome string, st Stats, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]*PullCounts{}
	}
	c := r.counts[name]
	if c == nil {
		c = &PullCounts{Polls: map[string]int64{}, Records: map[string]int64{}}
		r.counts[name] = c
	}
	c.Polls[outcome]++
	if outcome == PollOK {
		c.LastOK = at
	}
	for k, n := range map[string]int{"changed": st.Changed, "echo": st.Echoes, "created": st.Created, "restored": st.Restored,
		"deleted": st.Deleted, "merged": st.Merged, "converted": st.Converted, "conflict": st.Conflicts, "deferred": st.Deferred} {
		c.Records[k] += int64(n)
	}
}

// Run runs every puller and deliverer; it returns when ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Retry <= 0 {
		r.Retry = time.Second
	}
	var wg sync.WaitGroup
	for _, p := range r.Pullers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.lead(ctx, "pull:"+p.Mapping().Name, func(ctx context.Context) { r.runPuller(ctx, p) })
		}()
	}
	if len(r.Pullers) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runPruner(ctx)
		}()
	}
	for _, d := range r.Deliverers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.lead(ctx, "deliver:"+d.Sink, func(ctx context.Context) { r.runDeliverer(ctx, d) })
		}()
	}
	if r.Lead != nil && r.Feed != nil {
		// Another replica may be the one pulling: long polls of the
		// changes feed here look at the store again every Retry.
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(r.Retry)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					r.Feed.Notify()
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

func (r *Runner) lead(ctx context.Context, name string, run func(context.Context)) {
	if r.Lead == nil {
		run(ctx)
		return
	}
	r.Lead(ctx, name, run)
}

// Held lists the pulled mappings whose pull waits now (Config.Hold), with
// why, by mapping; empty when none does. Safe to call while it runs.
func (r *Runner) Held() map[string]string {
	out := map[string]string{}
	for _, p := range r.Pullers {
		if why := p.Held(); why != "" {
			out[p.Mapping().Name] = why
		}
	}
	return out
}

func (r *Runner) runPuller(ctx context.Context, p *Puller) {
	name := p.Mapping().Name
	every := p.settings.PollInterval
	heldFor := "" // the hold last logged; a hold is logged once, not every poll
	for {
		st, err := p.Poll(ctx)
		if ctx.Err() != nil {
			return
		}
		var held *HeldError
		switch {
		case errors.As(err, &held):
			if held.Reason != heldFor {
				r.Logger.Warn("pull held: the mapping waits until its schema or its config is fixed", "event", "pull.held",
					"mapping", name, "reason", held.Reason)
			}
			heldFor = held.Reason
		case heldFor != "":
			heldFor = ""
			r.Logger.Info("pull resumed", "event", "pull.resume", "mapping", name)
		}
		outcome := PollOK
		switch {
		case held != nil:
			outcome = PollHeld
		case errors.Is(err, ErrPaused):
			outcome = PollPaused
			r.Logger.Info("pull paused by the API budget", "event", "pull.paused", "mapping", name, "reason", err.Error())
		case err != nil:
			outcome = PollFailed
			r.Logger.Error("pull failed: the next poll reads again from the watermark", append([]any{"event", "pull.failed", "mapping", name},
				errAttrs(err)...)...)
		case st.Read > 0:
			r.Logger.Info("pulled", "event", "pull.read", "mapping", name, "read", st.Read, "changed", st.Changed, "echoes", st.Echoes,
				"created", st.Created, "restored", st.Restored, "deleted", st.Deleted, "merged", st.Merged, "conflicts", st.Conflicts,
				"deferred", st.Deferred)
		}
		r.count(name, outcome, st, time.Now())
		if st.Read > 0 {
			if r.Feed != nil {
				r.Feed.Notify()
			}
			if r.OnPulled != nil {
				r.OnPulled()
			}
		}
		if r.Polled != nil {
			r.Polled(name, st, err)
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (r *Runner) runDeliverer(ctx context.Context, d *Deliverer) {
	for {
		var woken <-chan struct{}
		if r.Feed != nil {
			woken = r.Feed.Changed()
		}
		n, err := d.DeliverDue(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.Logger.Error("webhook deliveries not recorded: the store failed", "event", "webhook.store_error", "sink", d.Sink, "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		t := time.NewTimer(r.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-woken:
		case <-t.C:
		}
		t.Stop()
	}
}

// runPruner prunes each pulled mapping's old changes at start and every
// PruneEvery. Replicas sharing a store may prune at once: a prune is one
// transaction, and pruning twice deletes nothing more.
func (r *Runner) runPruner(ctx context.Context) {
	every := r.PruneEvery
	if every <= 0 {
		every = time.Hour
	}
	for {
		for _, p := range r.Pullers {
			n, err := p.Prune(ctx)
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil:
				r.Logger.Error("pruning pulled changes failed", "event", "pull.prune_error", "mapping", p.Mapping().Name, "err", err)
			case n > 0:
				r.Logger.Info("pruned pulled changes", "event", "pull.pruned", "mapping", p.Mapping().Name, "events", n, "retention", p.Retention().String())
			}
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// errAttrs describes a failed poll for the log without Salesforce's
// message, which can quote data: the error code, the HTTP status and the
// call; other errors (the store's, the network's) as they are.
func errAttrs(err error) []any {
	var ae *salesforce.APIError
	if errors.As(err, &ae) {
		return []any{"code", ae.Code, "status", ae.Status, "call", ae.Method + " " + ae.Path}
	}
	return []any{"err", err}
}
