package pull_test

import (
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/pull"
)

// TestFeedWebhookSaysWhy: asking for the dead letters of a mapping the
// config does not have says so, rather than that the mapping "does not
// pull" (a typo in the name read as a push mapping).
func TestFeedWebhookSaysWhy(t *testing.T) {
	push := forcesync.Mapping{Name: "out", Source: "s", Object: "Lead"}
	in := leadsBoth(forcesync.NewestWins)
	f := pull.NewFeed(nil, []forcesync.Mapping{push, in})
	for name, want := range map[string]string{
		"nope":  `no mapping "nope" in the config`,
		"out":   `mapping "out" does not pull from Salesforce`,
		"leads": `mapping "leads" has no webhook in pull.into`,
	} {
		err := f.Webhook(name)
		if err == nil || !strings.Contains(err.Error(), want) || forcesync.ErrorCode(err) != forcesync.ENotFound {
			t.Errorf("Webhook(%q) = %v; want not found, %q", name, err, want)
		}
	}
}
