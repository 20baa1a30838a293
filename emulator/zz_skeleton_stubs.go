package emulator

// This file holds the minimum for the skeleton to compile. The owner of each
// piece replaces it with the real thing in its own file and deletes the stub here.

