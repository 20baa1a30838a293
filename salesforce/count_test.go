package salesforce

import (
	"context"
	"sync"
	"testing"

	"github.com/forcesync/forcesync/emulator"
)

// TestCallCounterPerContext: each context counts its own calls — retries
// included, OAuth excluded — while others run at the same time on the same
// client.
func TestCallCounterPerContext(t *testing.T) {
	o := newEmuOrg(t, nil)
	// One 503 for the first query: the client tries again, and both count.
	if _, err := o.e.AddFault(emulator.Fault{Status: 503, Method: "GET", Path: "/services/data/*/query", Count: 1}); err != nil {
		t.Fatal(err)
	}
	var a, b CallCounter
	var wg sync.WaitGroup
	for _, c := range []*CallCounter{&a, &b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := WithCallCounter(context.Background(), c)
			if _, err := o.c.QueryRecords(ctx, "SELECT Id FROM Lead"); err != nil {
				t.Error(err)
			}
			if _, err := o.c.Limits(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := a.Calls() + b.Calls(); got != 5 || min(a.Calls(), b.Calls()) != 2 {
		t.Fatalf("counted %d and %d calls, want 2 and 3", a.Calls(), b.Calls())
	}
	if !CountsAgainstLimit("/services/data/v65.0/query") || CountsAgainstLimit("/services/oauth2/token") || CountsAgainstLimit("/services/data") {
		t.Fatal("CountsAgainstLimit")
	}
}
