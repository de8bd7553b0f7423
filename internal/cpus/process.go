package cpus

import (
	"time"

	"golang.org/x/sys/unix"
)

// ProcessTime is the user+system CPU time this process has used so far, on
// every thread (Go's and libzmq's alike), or 0 if the kernel does not say.
// Runs report it next to their rates, and benchmarks per message, because
// other load on a shared machine disturbs it far less than wall time.
func ProcessTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
