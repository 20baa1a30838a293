package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/engine"
	"github.com/forcesync/forcesync/sqlite"
)

func userMapping() forcesync.Mapping {
	return forcesync.Mapping{Name: "users", Source: "person", Object: "User", Match: forcesync.MatchRule{Kind: forcesync.MatchBinding},
		User: forcesync.UserOptions{UsernameSuffix: ".sbx", TimeZone: "America/Los_Angeles"},
		Fields: []forcesync.FieldRow{{Target: "FirstName", SourceField: "first"}, {Target: "LastName", SourceField: "last"},
			{Target: "Email", SourceField: "email"}, {Target: "ProfileId", HasConstant: true, Constant: "standard user"}}}
}

// TestUserDefaults: a User mapping with only names, email and a profile
// name creates Users: profile looked up, username from the email with the
// suffix, defaults, and aliases that never collide.
func TestUserDefaults(t *testing.T) {
	r := newRig(t, engine.Config{}, userMapping())
	for i := range 3 {
		r.accept("person", forcesync.Change{Key: fmt.Sprint("u", i), Fields: map[string]any{"first": "Ada", "last": "Lovelace", "email": fmt.Sprintf("ada%d@example.com", i)}})
		r.drain() // one at a time: each must see the others' aliases
	}
	users := r.query("SELECT Username, Alias, TimeZoneSidKey, LocaleSidKey, ProfileId FROM User WHERE LastName = 'Lovelace'")
	if len(users) != 3 {
		t.Fatalf("users %v", users)
	}
	aliases := map[string]bool{}
	for _, u := range users {
		a := u["Alias"].(string)
		if len(a) > 8 || aliases[a] || !strings.HasPrefix(a, "alove") {
			t.Errorf("alias %q (seen %v)", a, aliases)
		}
		aliases[a] = true
		if !strings.HasSuffix(u["Username"].(string), "@example.com.sbx") || u["TimeZoneSidKey"] != "America/Los_Angeles" ||
			u["LocaleSidKey"] != "en_US" || u["ProfileId"] != r.profile("Standard User") {
			t.Errorf("user %v", u)
		}
	}
	if !aliases["alovelac"] {
		t.Errorf("first alias not the plain one: %v", aliases)
	}
}

// TestUserProfileUnknown: a profile name the org lacks is refused when the
// engine starts, naming the mapping, the field and the name.
func TestUserProfileUnknown(t *testing.T) {
	m := userMapping()
	m.Fields[3].Constant = "Wizard"
	r := newRig(t, engine.Config{})
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = engine.New(context.Background(), store, r.api, []forcesync.Mapping{m}, engine.Config{})
	if err == nil || !strings.Contains(err.Error(), `mapping users: field ProfileId: no Profile named "Wizard"`) {
		t.Fatalf("err %v", err)
	}
}
