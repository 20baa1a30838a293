package forcesync

import "context"

// BindingsByFoldedKey is a Store that finds the bindings whose key equals
// other keys ignoring case. The engine uses it to hold a record whose key
// differs only in case from an already bound key of the same mapping, when
// the target External ID field is not case-sensitive: Salesforce would
// match both keys to one record, and the second would overwrite the first.
// Both stores implement it (storetest.Run checks them).
type BindingsByFoldedKey interface {
	// FoldedBindings returns, for each of keys, the keys of the mapping's
	// bindings that equal it ignoring case but are not it (ASCII letters
	// fold in every store; other letters as the database's lower() does).
	// Keys without such a binding are absent from the result.
	FoldedBindings(ctx context.Context, mapping string, keys []string) (map[string][]string, error)
}
