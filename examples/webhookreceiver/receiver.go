// Package webhookreceiver is an example receiver of forcesync's webhooks,
// written as an application would, with the standard library only: it
// checks each delivery's signature and age, drops repeats by event id, and
// hands the change to the application. Copy it; see docs/webhooks.md.
//
//	func main() {
//		h := webhookreceiver.Handler(os.Getenv("FORCESYNC_WEBHOOK_SECRET"), func(ev webhookreceiver.Event) error {
//			log.Printf("%s %s: %v", ev.Op, ev.Key, ev.Fields) // apply it to your records here
//			return nil
//		})
//		log.Fatal(http.ListenAndServe("127.0.0.1:9000", h))
//	}
package webhookreceiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event is one pulled change as forcesync posts it.
type Event struct {
	ID           string         `json:"id"`
	Seq          int64          `json:"seq"`
	Mapping      string         `json:"mapping"`
	Source       string         `json:"source"`
	Key          string         `json:"key"`
	Op           string         `json:"op"` // upsert, delete, merge
	SalesforceID string         `json:"salesforce_id"`
	Fields       map[string]any `json:"fields"`
	Changed      []string       `json:"changed"`
	MergedInto   string         `json:"merged_into"`
	Modstamp     time.Time      `json:"system_modstamp"`
}

// Tolerance is how old (or how far in the future) a delivery's timestamp
// may be: older ones are refused, so a captured request cannot be replayed.
const Tolerance = 5 * time.Minute

// Verify checks a delivery: its webhook-timestamp is within Tolerance of
// now, and one of the signatures in webhook-signature is the HMAC-SHA256
// of "id.timestamp.body" under the secret ("whsec_" + base64 of the key,
// or the key itself).
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not Unix seconds")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return errors.New("webhook-timestamp is too old or in the future")
	}
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return errors.New("secret: invalid base64 after whsec_")
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	// Several signatures may be sent (space separated) while a secret is
	// rotated; any one that matches will do.
	for _, s := range strings.Fields(sigs) {
		v, b64, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// Handler serves forcesync's POSTs: 401 for a bad signature, 200 for a
// repeat (already applied), else apply's verdict: 200 when it returns nil,
// 500 (forcesync retries later) otherwise. Deliveries of one record come
// one at a time, in order.
func Handler(secret string, apply func(Event) error) http.Handler {
	var mu sync.Mutex
	done := map[string]bool{} // a real receiver keeps this with its data
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		if err := Verify(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev Event
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if done[ev.ID] {
			return // seen: at-least-once delivery sent it again
		}
		if err := apply(ev); err != nil {
			http.Error(w, "not applied", http.StatusInternalServerError)
			return
		}
		done[ev.ID] = true
	})
}
