package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Placement is where one lmfast invocation's engine groups stand among all
// the groups of a run made of several separately started processes (pods,
// hosts): process ProcessID of Processes, each running Groups groups.
//
// Group g of process K is the run's group K·Groups + g: that global index
// is its Config.Proc, so its instance names (InstanceID), its message
// streams' seeds and the proc of its JSONL lines differ from those of every
// other group of the run. No two processes then register the same (instance,
// worker): a second RegisterMsg for a registered worker makes LMCache's
// controller drop that worker's keys.
//
// The zero Placement is invalid; a lone invocation is {0, 1, Groups}, whose
// groups keep LMCache's names instance_p{g}_{i}.
type Placement struct {
	ProcessID int // K, from 0
	Processes int // M, the separately started processes of the run
	Groups    int // N, engine groups per process (--num-processes)
}

// Validate names the flag at fault.
func (p Placement) Validate() error {
	switch {
	case p.Groups < 1:
		return errors.New("--num-processes must be at least 1")
	case p.Processes < 1:
		return errors.New("--num-processes-total must be at least 1")
	case p.ProcessID < 0 || p.ProcessID >= p.Processes:
		return fmt.Errorf("--process-id %d is outside 0..%d (--num-processes-total %d)", p.ProcessID, p.Processes-1, p.Processes)
	case p.Processes > math.MaxInt32/p.Groups:
		return fmt.Errorf("--num-processes-total %d × --num-processes %d groups is too many", p.Processes, p.Groups)
	}
	return nil
}

// Proc is the global index of this process's group g: its Config.Proc.
func (p Placement) Proc(g int) int { return p.ProcessID*p.Groups + g }

// TotalGroups is the number of groups over all the run's processes: the
// Config.NumProcesses of each group.
func (p Placement) TotalGroups() int { return p.Processes * p.Groups }

// GroupRate is one group's share of a target rate given for the whole run
// (every process and group): its Config.Rate.
func (p Placement) GroupRate(total float64) float64 { return total / float64(p.TotalGroups()) }

// ProcessRate is this process's share of a target rate given for the
// whole run.
func (p Placement) ProcessRate(total float64) float64 { return total / float64(p.Processes) }

// maxStartAhead bounds how far ahead --start-at may be: farther is taken
// for a mistake (milliseconds given as seconds, a wrong year).
const maxStartAhead = 24 * time.Hour

// ParseStartAt reads a --start-at instant: RFC 3339 (2026-12-05T12:00:00Z,
// fractions and offsets allowed) or Unix seconds (1765000000, 1765000000.5).
// An instant more than a day after now is refused; one already past is
// returned as it is (the run then starts at once).
func ParseStartAt(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var t time.Time
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs <= 0 || secs > 1e11 {
			return time.Time{}, fmt.Errorf("--start-at %q is not a Unix time in seconds", s)
		}
		whole, frac := math.Modf(secs)
		t = time.Unix(int64(whole), int64(math.Round(frac*1e9)))
	} else if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return time.Time{}, fmt.Errorf("--start-at %q: want RFC 3339 (2026-12-05T12:00:00Z) or Unix seconds", s)
	}
	if ahead := t.Sub(now); ahead > maxStartAhead {
		return time.Time{}, fmt.Errorf("--start-at %s is %s from now, more than %s", t.UTC().Format(time.RFC3339Nano), ahead.Round(time.Second), maxStartAhead)
	}
	return t, nil
}

// waitForStart waits until the wall clock reaches at, or ctx is done, or
// interrupted is closed; it reports whether at was reached. A zero or past
// at returns at once. The wait is on the wall clock, not the monotonic one,
// so that a clock step (NTP) moves the start with every other host's.
func waitForStart(ctx context.Context, interrupted <-chan struct{}, at time.Time) bool {
	at = at.Round(0) // wall clock only
	for {
		left := time.Until(at)
		if left <= 0 {
			return true
		}
		// Re-read the wall clock at least every 100 ms: a sleep runs on
		// the monotonic clock.
		t := time.NewTimer(min(left, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-interrupted:
			t.Stop()
			return false
		case <-t.C:
		}
	}
}
