package config_test

import (
	"strings"
	"testing"
	"time"

	forcesync "github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/config"
)

func twoWay(pull string) string {
	return strings.Replace(minimal, "    match:\n", "    direction: both\n"+pull+"    match:\n", 1)
}

func TestPullBlock(t *testing.T) {
	cfg, err := config.Parse([]byte(twoWay(`    pull:
      poll_interval: 45s
      retention: 720h
      conflict: app_wins
      into: [source, webhook]
      webhook:
        url: https://app.example.com/hook
        secret_env: HOOK_SECRET
        max_attempts: 3
`)), "forcesync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(func(k string) string { return map[string]string{"SF_SECRET": "x", "HOOK_SECRET": "whsec_abc"}[k] }); err != nil {
		t.Fatal(err)
	}
	m := cfg.Mappings[0]
	p := m.PullSettings()
	if m.Direction != forcesync.Both || p.PollInterval != 45*time.Second || p.Retention != 720*time.Hour || p.Conflict != forcesync.AppWins ||
		!p.Has(forcesync.SinkWebhook) || p.Has(forcesync.SinkChanges) || p.Webhook.Secret != "whsec_abc" ||
		p.Webhook.SecretEnv != "HOOK_SECRET" || p.Webhook.MaxAttempts != 3 {
		t.Fatalf("pull settings %+v webhook %+v", p, p.Webhook)
	}
}

func TestPullErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"short retention": {twoWay("    pull:\n      retention: 10m\n"), "expected a duration from 1h to 8760h"},
		"bad sink":        {twoWay("    pull:\n      into: [source, kafka]\n"), `"kafka" is not one of source, changes, webhook`},
		"unsigned hook":   {twoWay("    pull:\n      into: [source, webhook]\n      webhook:\n        url: https://a.example.com/h\n"), "secret is required"},
		"literal secret":  {twoWay("    pull:\n      into: [source, webhook]\n      webhook:\n        url: https://a.example.com/h\n        secret: hunter2\n"), "must be an environment reference"},
		"both sans src":   {twoWay("    pull:\n      into: [changes]\n"), "into must list source for direction both"},
		"pull on push":    {strings.Replace(minimal, "    match:\n", "    pull:\n      poll_interval: 1m\n    match:\n", 1), "pull settings on a mapping with direction push"},
		"zero interval":   {twoWay("    pull:\n      poll_interval: 0s\n"), "expected a duration such as 30s"},
		"bad conflict":    {twoWay("    pull:\n      conflict: coin_flip\n"), `"coin_flip" is not one of app_wins, salesforce_wins, newest_wins`},
		"expr pulled row": {strings.Replace(twoWay(""), "        source: last_name\n", "        expr: upper(last_name)\n", 1), "a value, expr or first_of cannot be pulled"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.yaml), "forcesync.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
