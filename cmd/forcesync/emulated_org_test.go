package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/salesforce"
)

// emulatorConnection is the connections block of a test config: one
// connection, "org", that logs in to the emulator at %s (its base URL)
// with the password flow as the emulator's admin. The client secret and
// the password come from TEST_SF_SECRET and TEST_SF_PASSWORD, which
// serveVars sets. Configs embed it (it ends without a newline) and fill in
// the URL with fmt.Sprintf.
const emulatorConnection = `connections:
  - name: org
    login_url: %s
    auth: password
    client_id: forcesync-demo
    client_secret: ${TEST_SF_SECRET}
    username: admin@forcesync.local
    password_env: TEST_SF_PASSWORD`

// serveVars returns a new environment for a config built on
// emulatorConnection: the emulator's demo secrets, and the API token
// serveConfig's server reads.
func serveVars() map[string]string {
	return map[string]string{"TEST_API_TOKEN": "s3cret-token", "TEST_SF_SECRET": emulator.DemoClientSecret, "TEST_SF_PASSWORD": emulator.DefaultPassword}
}

// startEmulator serves a new emulator made from cfg on 127.0.0.1:0 until
// the test ends, and returns it with its base URL.
func startEmulator(t *testing.T, cfg emulator.Config) (*emulator.Emulator, string) {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		emu.Close()
	})
	return emu, srv.URL
}

// emuClient is a Salesforce client logged in to the emulator at url as its
// admin, for a test to read or change the org behind forcesync's back.
func emuClient(t *testing.T, url string) *salesforce.Client {
	t.Helper()
	c, err := salesforce.NewClient(context.Background(), salesforce.Config{LoginURL: url,
		Auth: salesforce.Password{ClientID: emulator.DemoClientID, ClientSecret: emulator.DemoClientSecret,
			Username: emulator.DefaultUsername, Password: emulator.DefaultPassword}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
