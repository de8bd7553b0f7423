package engine

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the user+system CPU time this process has used so far
// (every thread: senders, producers, libzmq's I/O threads, the collector).
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuUtil is cpu over wall in cores (1.0 = one core busy the whole time).
func cpuUtil(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
