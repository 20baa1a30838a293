// Package crashtest holds only tests: it kills a real `forcesync serve`
// process with SIGKILL at random points while it pushes, restarts it on the
// same SQLite file, and checks that Salesforce (the emulator) ends up with
// every record exactly once and at its newest version.
//
// The default run is scaled down for CI; FORCESYNC_CRASH_FULL=1 runs 20,000
// records with 60 kills.
package crashtest
