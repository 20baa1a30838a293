package forcesync_test

import (
	"testing"

	"github.com/forcesync/forcesync"
)

type baseStore struct{ forcesync.Store }

func (baseStore) Sessionless() {}

type wrapStore struct{ forcesync.Store }

func (w wrapStore) Unwrap() forcesync.Store { return w.Store }

type sessionless interface{ Sessionless() }

// A wrapper that filters writes must not hide what the store beneath it
// can do: a door wrapped for passwords once hid the console's sessions.
func TestStoreAsLooksThroughWrappers(t *testing.T) {
	inner := baseStore{}
	if _, ok := forcesync.StoreAs[sessionless](wrapStore{wrapStore{inner}}); !ok {
		t.Fatal("capability of the wrapped store not found")
	}
	if _, ok := forcesync.StoreAs[forcesync.StoreUnwrapper](inner); ok {
		t.Fatal("found a capability the store lacks")
	}
	if _, ok := forcesync.StoreAs[sessionless](nil); ok {
		t.Fatal("nil store has no capabilities")
	}
}
