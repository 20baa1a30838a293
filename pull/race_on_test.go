//go:build race

package pull_test

// raceBuild: the race detector slows these tests tenfold; property tests
// take fewer cases under it.
const raceBuild = true
