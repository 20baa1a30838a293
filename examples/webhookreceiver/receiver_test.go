package webhookreceiver_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/forcesync/forcesync/examples/webhookreceiver"
	"github.com/forcesync/forcesync/pull"
)

// TestVerifyAgreesWithSign: what forcesync signs, the example accepts;
// a changed body, an old timestamp or another secret is refused.
func TestVerifyAgreesWithSign(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"e1","key":"k"}`)
	for _, secret := range []string{"plain-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		sig, err := pull.Sign(secret, "e1", now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Webhook-Id": {"e1"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {"v1,bogus " + sig}}
		if err := webhookreceiver.Verify(secret, h, body, now.Add(time.Minute)); err != nil {
			t.Fatalf("%s: %v", secret, err)
		}
		if webhookreceiver.Verify(secret, h, []byte(`{"id":"e1","key":"x"}`), now) == nil {
			t.Fatal("changed body accepted")
		}
		if webhookreceiver.Verify(secret, h, body, now.Add(time.Hour)) == nil {
			t.Fatal("old delivery accepted")
		}
		if webhookreceiver.Verify(secret+"x", h, body, now) == nil {
			t.Fatal("other secret accepted")
		}
	}
}
