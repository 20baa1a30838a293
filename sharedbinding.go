package forcesync

import "context"

// SharedBindings is a Store that finds the other keys of a mapping bound to
// the same Salesforce record as given keys. Matching by fields binds several
// keys to one record (two users sharing an email, one Contact; a person the
// identity provider deleted and provisions again under a new id, one User):
// the engine then leaves that record alone when one of the keys is disabled
// or deprovisioned while another is still live, instead of closing,
// deactivating or deleting it under the other's feet. Both stores implement
// it (storetest.Run checks them).
type SharedBindings interface {
	// LiveSharers returns, for each of keys bound under mapping, the other
	// keys of the mapping bound to the same Salesforce Id whose binding is
	// live: its fingerprint is neither FingerprintDisabled (disabled or
	// deprovisioned) nor FingerprintConverted. Keys without such a sharer
	// are absent from the result; each list is sorted.
	LiveSharers(ctx context.Context, mapping string, keys []string) (map[string][]string, error)
}
