package pull

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forcesync/forcesync"
)

// Webhook deliveries follow the Standard Webhooks shape, so receivers may
// use its libraries: each POST carries one event as JSON and the headers
//
//	webhook-id:        the event id (the same for every attempt: de-duplicate by it)
//	webhook-timestamp: Unix seconds of this attempt
//	webhook-signature: "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))
//
// where key is the secret's bytes, or, for a secret written "whsec_<base64>",
// the bytes it encodes. docs/webhooks.md shows a receiver checking them.

// Sign returns the webhook-signature header value for one delivery.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func secretKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, forcesync.Errorf(forcesync.EInvalid, "webhook secret is empty")
	}
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, forcesync.Errorf(forcesync.EInvalid, "webhook secret: whsec_ is followed by invalid base64")
		}
		return key, nil
	}
	return []byte(secret), nil
}

// Deliverer posts one mapping's pulled changes to its webhook: signed, in
// order per record, retried with jittered exponential backoff, and moved
// to the dead letters after MaxAttempts.
//
// Delivery contract: at least once per event; a receiver de-duplicates
// by webhook-id. An event is marked delivered only after a 2xx answer.
//
// Every round of attempts with failures is logged (webhook.retry, with
// the reasons counted), every event given up (webhook.dead), and the
// first round without failures after them (webhook.recovered); Counts
// counts the attempts by outcome.
//
// A round is bounded: it stops at the first POST that got no answer in
// time (a receiver that accepts connections and never answers, or one
// that is down), and the sink then rests, with the same jittered
// exponential backoff as an event, before the next round tries again
// (webhook.stalled; Stalls counts them); and it starts no POST after
// RoundTime. Events a round did not reach stay due, unattempted, in
// their order: a hung receiver costs one Client timeout per rest, not
// one per event.
type Deliverer struct {
	Sink    string
	Webhook forcesync.Webhook
	Store   forcesync.PullStore
	// Client sends the POSTs; nil means one with a 10-second timeout.
	Client *http.Client
	// MaxBackoff caps the delay between attempts; zero means one hour.
	MaxBackoff time.Duration
	// RoundTime is how long a round of DeliverDue may go on starting
	// POSTs; the events after it go in the next round. Zero means 30
	// seconds.
	RoundTime time.Duration
	Now       func() time.Time
	Logger    *slog.Logger

	mu     sync.Mutex
	counts map[string]int64 // attempts by outcome: delivered, failed, dead
	// failingSince is when the receiver began failing (zero while it
	// answers): the first success after it logs webhook.recovered.
	failingSince time.Time
	// stalled counts the rounds in a row stopped for want of an answer
	// (the sink's backoff grows with it); restUntil is when the next
	// round may start; stalls counts every stopped round.
	stalled   int
	restUntil time.Time
	stalls    int64
}

// Delivery attempt outcomes, as Counts reports them.
const (
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // it did not; the event goes again after its backoff
	DeliveryDead      = "dead"      // it did not, the last attempt: the event is in the dead letters
)

// Counts returns the attempts made since the Deliverer was made, by
// outcome (DeliveryDelivered, DeliveryFailed, DeliveryDead).
func (d *Deliverer) Counts() map[string]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int64, 3)
	for _, k := range []string{DeliveryDelivered, DeliveryFailed, DeliveryDead} {
		out[k] = d.counts[k]
	}
	return out
}

// Stalls returns how many rounds stopped because the receiver did not
// answer, since the Deliverer was made.
func (d *Deliverer) Stalls() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stalls
}

func (d *Deliverer) count(outcome string) {
	d.mu.Lock()
	if d.counts == nil {
		d.counts = map[string]int64{}
	}
	d.counts[outcome]++
	d.mu.Unlock()
}

func (d *Deliverer) defaults() {
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = time.Hour
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Webhook.MaxAttempts <= 0 {
		d.Webhook.MaxAttempts = 8
	}
	if d.RoundTime <= 0 {
		d.RoundTime = 30 * time.Second
	}
}

// DeliverDue makes one attempt at the deliveries due now, in order, and
// returns how many it attempted. It stops at the first that got no answer
// and rests the sink (see Deliverer), and after RoundTime; while the sink
// rests it attempts none.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	d.defaults()
	start := d.Now()
	d.mu.Lock()
	resting := start.Before(d.restUntil)
	d.mu.Unlock()
	if resting {
		return 0, nil
	}
	ds, err := d.Store.ClaimDeliveries(ctx, d.Sink, start, 100)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	results := make([]forcesync.DeliveryResult, 0, len(ds))
	reasons := map[string]int{} // failures of this round (dead ones included), by reason
	var next time.Time          // the earliest retry of this round
	delivered := 0
	stalled := "" // why the round stopped for want of an answer
	for i, dl := range ds {
		if i > 0 && d.Now().Sub(start) >= d.RoundTime {
			break // the rest go in the next round
		}
		res := forcesync.DeliveryResult{Seq: dl.Change.Seq}
		err := d.post(ctx, &dl.Change)
		if err != nil && ctx.Err() != nil {
			break // shutting down: the attempt does not count
		}
		if noAnswer(err) {
			stalled = failureReason(err)
		}
		switch attempts := dl.Attempts + 1; {
		case err == nil:
			res.OK = true
			d.count(DeliveryDelivered)
			delivered++
		case attempts >= d.Webhook.MaxAttempts:
			res.Error, res.Dead = err.Error(), true
			reasons[failureReason(err)]++
			d.count(DeliveryDead)
			d.Logger.Error("webhook delivery gave up: the event is in the dead letters", "event", "webhook.dead", "sink", d.Sink,
				"event_id", dl.Change.EventID, "key", dl.Change.Key, "attempts", attempts, "reason", failureReason(err))
		default:
			res.Error = err.Error()
			res.NextAttempt = d.Now().Add(d.backoff(attempts))
			reasons[failureReason(err)]++
			d.count(DeliveryFailed)
			if next.IsZero() || res.NextAttempt.Before(next) {
				next = res.NextAttempt
			}
		}
		results = append(results, res)
		if stalled != "" {
			// No answer: the receiver hangs or is down, and the events
			// after this one would most likely wait as long for nothing.
			break
		}
	}
	d.rest(stalled, len(ds)-len(results))
	if len(reasons) > 0 {
		d.failing()
		attrs := []any{"event", "webhook.retry", "sink", d.Sink, "failed", sum(reasons), "reasons", reasonCounts(reasons)}
		if !next.IsZero() {
			attrs = append(attrs, "next_attempt", next)
		}
		d.Logger.Warn("webhook deliveries failed", attrs...)
	} else if delivered > 0 {
		d.recovered()
	}
	if err := d.Store.FinishDeliveries(context.WithoutCancel(ctx), d.Sink, results); err != nil {
		return len(results), err
	}
	return len(results), nil
}

// rest makes the sink rest after a round stopped for want of an answer
// (reason "timeout" or "no answer"; "" for a round that was answered
// throughout, which ends a rest's growth), waiting the events' backoff
// for as many such rounds in a row; waiting is how many events the round
// left due.
func (d *Deliverer) rest(reason string, waiting int) {
	d.mu.Lock()
	if reason == "" {
		d.stalled = 0
		d.mu.Unlock()
		return
	}
	d.stalled++
	d.stalls++
	pause := d.backoff(d.stalled)
	d.restUntil = d.Now().Add(pause)
	until := d.restUntil
	d.mu.Unlock()
	d.Logger.Warn("webhook receiver did not answer: round stopped, the sink rests", "event", "webhook.stalled", "sink", d.Sink,
		"reason", reason, "waiting", waiting, "rest", pause.Round(time.Millisecond).String(), "until", until)
}

// noAnswer reports a POST that got no HTTP answer (a timeout, a refused
// or broken connection), as opposed to one the receiver answered.
func noAnswer(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && de.status == 0
}

// failing notes that the receiver fails, from now if it did not already.
func (d *Deliverer) failing() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failingSince.IsZero() {
		d.failingSince = d.Now()
	}
}

// recovered logs the first round without a failure after failures.
func (d *Deliverer) recovered() {
	d.mu.Lock()
	since := d.failingSince
	d.failingSince = time.Time{}
	d.mu.Unlock()
	if !since.IsZero() {
		d.Logger.Info("webhook deliveries succeed again", "event", "webhook.recovered", "sink", d.Sink,
			"failed_for", d.Now().Sub(since).Round(time.Millisecond).String())
	}
}

// deliveryError is a failed POST: the receiver's status, or no answer.
type deliveryError struct {
	status int    // the receiver's HTTP status; 0 when none came
	text   string // what happened, without the URL (its query may hold a token)
	cause  error  // the transport's error, when no answer came
}

func (e *deliveryError) Error() string { return e.text }
func (e *deliveryError) Unwrap() error { return e.cause }

// failureReason names a failure for the logs: "HTTP 503", "timeout" or
// "no answer".
func failureReason(err error) string {
	var de *deliveryError
	switch {
	case errors.As(err, &de) && de.status != 0:
		return "HTTP " + strconv.Itoa(de.status)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	}
	return "no answer"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reasonCounts renders {"HTTP 503": 2, "timeout": 1} as
// "HTTP 503=2,timeout=1", in order.
func reasonCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (d *Deliverer) backoff(attempts int) time.Duration {
	b := time.Second << min(attempts, 20)
	if b > d.MaxBackoff || b <= 0 {
		b = d.MaxBackoff
	}
	return b/2 + time.Duration(rand.Int64N(int64(b/2)+1))
}

func (d *Deliverer) post(ctx context.Context, ev *forcesync.PulledChange) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	ts := d.Now()
	sig, err := Sign(d.Webhook.Secret, ev.EventID, ts, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", ev.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.Client.Do(req)
	if err != nil {
		// The url.Error's text repeats the URL; what went wrong is its Err.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &deliveryError{text: "post: " + err.Error(), cause: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &deliveryError{status: resp.StatusCode, text: "receiver answered " + resp.Status}
	}
	return nil
}
