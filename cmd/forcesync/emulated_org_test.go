package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/forcesync/forcesync/emulator"
	"github.com/forcesync/forcesync/internal/testrig"
	"github.com/forcesync/forcesync/salesforce"
)

// emulatorConnection is the connections block of a test config
// (testrig.EmulatorConnection): one connection, "org", logging in to the
// emulator at %s. serveVars sets its TEST_SF_SECRET and TEST_SF_PASSWORD.
const emulatorConnection = testrig.EmulatorConnection

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
