package engine

import "time"

// cpuUtil is cpu over wall in cores (1.0 = one core busy the whole time).
func cpuUtil(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return cpu.Seconds() / wall.Seconds()
}
