package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $FORCESYNC_CPUPROFILE and, at the
// end, a heap profile to $FORCESYNC_MEMPROFILE, when set: how the figures of
// docs/benchmarks.md were traced. The returned stop writes them.
func startProfiles() (stop func()) {
	var stops []func()
	if path := os.Getenv("FORCESYNC_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		} else {
			fmt.Fprintln(os.Stderr, "forcesync: cpu profile:", err)
		}
	}
	if path := os.Getenv("FORCESYNC_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "forcesync: heap profile:", err)
				return
			}
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
