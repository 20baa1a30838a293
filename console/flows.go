package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/secret"
)

// Pending OAuth flows (Connect to Salesforce, OIDC sign-in) live in the
// store (forcesync.FlowStore) for flowTTL, so a restart or another replica
// can answer the callback. The store keeps, under the SHA-256 of the
// state, the flow's record sealed with forcesync's key (Config.SealKey):
// the PKCE verifier and a client secret never rest there in clear, and a
// copy of the database can neither read nor answer a flow.

const flowTTL = 10 * time.Minute

// Kinds of pending flows.
const (
	flowConnect = "connect"
	flowOIDC    = "oidc"
)

func flowID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// sealKey returns the key that seals pending flows.
func (c *Console) sealKey() (secret.Key, error) {
	if c.cfg.SealKey != nil {
		return c.cfg.SealKey()
	}
	return c.localKey, nil
}

// putFlow keeps v (a JSON-encodable record) as the pending flow of state.
func (c *Console) putFlow(ctx context.Context, kind, state string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	key, err := c.sealKey()
	if err != nil {
		return fmt.Errorf("sealing the flow: %w", err)
	}
	id := flowID(state)
	sealed, err := secret.Seal(key, b, "console/flow/"+kind+"/"+id)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	return c.flows.PutFlow(ctx, forcesync.PendingFlow{ID: id, Kind: kind, Data: sealed, Created: now, Expires: now.Add(flowTTL)})
}

// takeFlow removes the pending flow of state and decodes it into v. A
// state that matches no live flow of kind is an ENotFound error.
func (c *Console) takeFlow(ctx context.Context, kind, state string, v any) error {
	if state == "" {
		return forcesync.Errorf(forcesync.ENotFound, "no state")
	}
	id := flowID(state)
	f, err := c.flows.TakeFlow(ctx, id, kind, c.cfg.Now())
	if err != nil {
		return err
	}
	key, err := c.sealKey()
	if err != nil {
		return fmt.Errorf("opening the flow: %w", err)
	}
	b, err := secret.Open(key, f.Data, "console/flow/"+kind+"/"+id)
	if err != nil {
		return fmt.Errorf("opening the flow (was forcesync's key changed, or do replicas use different keys?): %w", err)
	}
	return json.Unmarshal(b, v)
}
