package engine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// MemoryPercent returns system memory use the way psutil's
// virtual_memory().percent does: (total - available) / total * 100, from
// /proc/meminfo. ok is false where that cannot be read.
func MemoryPercent() (pct float64, ok bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var total, avail float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemTotal:":
			total = v
		case "MemAvailable:":
			avail = v
		}
	}
	if total <= 0 {
		return 0, false
	}
	return (total - avail) / total * 100, true
}
