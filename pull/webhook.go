package pull

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
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
type Deliverer struct {
	Sink    string
	Webhook forcesync.Webhook
	Store   forcesync.PullStore
	// Client sends the POSTs; nil means one with a 10-second timeout.
	Client *http.Client
	// MaxBackoff caps the delay between attempts; zero means one hour.
	MaxBackoff time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
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
}

// DeliverDue makes one attempt at every delivery due now and returns how
// many it attempted.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	d.defaults()
	ds, err := d.Store.ClaimDeliveries(ctx, d.Sink, d.Now(), 100)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	results := make([]forcesync.DeliveryResult, 0, len(ds))
	for _, dl := range ds {
		res := forcesync.DeliveryResult{Seq: dl.Change.Seq}
		if err := d.post(ctx, &dl.Change); err != nil {
			if ctx.Err() != nil {
				break // shutting down: the attempt does not count
			}
			res.Error = err.Error()
			attempts := dl.Attempts + 1
			if attempts >= d.Webhook.MaxAttempts {
				res.Dead = true
				d.Logger.Warn("webhook delivery gave up", "sink", d.Sink, "event", dl.Change.EventID, "attempts", attempts, "err", res.Error)
			} else {
				res.NextAttempt = d.Now().Add(d.backoff(attempts))
			}
		} else {
			res.OK = true
		}
		results = append(results, res)
	}
	if err := d.Store.FinishDeliveries(context.WithoutCancel(ctx), d.Sink, results); err != nil {
		return len(results), err
	}
	return len(results), nil
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
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
