package forcesync

// StoreUnwrapper is a Store that wraps another to filter what a door writes
// (engine.Passwords strips passwords from accepted changes). Capability
// checks look through it with StoreAs, as errors.As looks through wrapped
// errors, so a wrapper never hides what the store underneath can do.
type StoreUnwrapper interface {
	Unwrap() Store
}

// StoreAs reports whether st, or a store it wraps, implements the optional
// capability T (SessionStore, Inspector, PullStore, SettledReader, ...), and
// returns the first that does.
func StoreAs[T any](st Store) (T, bool) {
	for st != nil {
		if t, ok := st.(T); ok {
			return t, true
		}
		u, ok := st.(StoreUnwrapper)
		if !ok {
			break
		}
		st = u.Unwrap()
	}
	var zero T
	return zero, false
}
