//go:build !race

package pull_test

const raceBuild = false
