package engine

import (
	"runtime"
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

// cpuClock is a reading of the process's CPU time and of the wall clock
// taken together, so that a utilisation divides CPU time by the wall time
// of the same window.
type cpuClock struct {
	cpu  time.Duration
	wall time.Time
}

func readCPUClock() cpuClock { return cpuClock{cpu: processCPU(), wall: time.Now()} }

// minCPUWindow is the shortest window whose CPU utilisation is reported.
// The kernel adds a running thread's CPU time to the process's total at
// scheduler ticks and context switches (up to 10 ms late per running
// thread), so over a few milliseconds the ratio can exceed the CPUs the
// process has.
const minCPUWindow = 100 * time.Millisecond

// cpuUtil is cpu over wall in cores (1.0 = one core busy the whole time),
// at most the number of CPUs this process may run on. ok is false for a
// window shorter than minCPUWindow, too short to measure.
func cpuUtil(cpu, wall time.Duration) (util float64, ok bool) {
	if wall < minCPUWindow {
		return 0, false
	}
	return min(cpu.Seconds()/wall.Seconds(), float64(runtime.NumCPU())), true
}
