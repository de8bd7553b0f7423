package report

// What ties the files of one run's separately started processes together:
// their run label, and how well their wall clocks let their interval
// lines align.

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// alignmentWarning says when the interval lines merged into one interval
// started too far apart: more than a tenth of the interval, or, where the
// config lines carry their hosts' clock error (clock_maxerror_us), more
// than those clocks can differ, so the processes did not start together.
// Hosts whose clocks were not synchronised are named: their alignment is
// unknown.
func (m *merger) alignmentWarning(in *Input, width float64) {
	skew := m.rep.Skew
	maxErr := map[string]float64{} // host: seconds
	var unsynced []string
	known := len(m.rep.Sources) > 0
	for _, src := range m.rep.Sources {
		var raw any
		present := false
		if c := in.Configs[src.Run]; c != nil {
			raw, present = c.F["clock_maxerror_us"]
		}
		if !present { // an lmfast, or a command, that does not write it
			known = false
			continue
		}
		if us, ok := raw.(float64); ok {
			maxErr[src.Host] = math.Max(maxErr[src.Host], us/1e6)
		} else if !contains(unsynced, src.Host) {
			unsynced = append(unsynced, src.Host)
		}
	}
	hosts := len(maxErr) + len(unsynced)
	// Two hosts' clocks differ by at most the sum of their maximum errors;
	// one host's processes read one clock.
	var errs []float64
	for _, e := range maxErr {
		errs = append(errs, e)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(errs)))
	bound := 0.0
	if hosts > 1 && len(errs) > 0 {
		bound = errs[0]
		if len(errs) > 1 {
			bound += errs[1]
		}
	}
	msg := ""
	if skew > width/10 {
		msg = fmt.Sprintf("interval lines merged into one %gs interval start up to %.0f ms apart (processes started at different times, or their clocks differ)", width, skew*1e3)
	}
	// Beyond what the clocks explain, and beyond the scheduling noise of a
	// hundredth of the interval.
	if known && len(unsynced) == 0 && skew > bound && skew > width/100 {
		if msg == "" {
			msg = fmt.Sprintf("interval lines merged into one %gs interval start up to %.1f ms apart", width, skew*1e3)
		}
		if hosts > 1 {
			msg += fmt.Sprintf(", more than their hosts' clocks can differ (%.1f ms by the kernels' maxerror)", bound*1e3)
		}
		msg += ": the processes did not start their load at one instant (--start-at makes them)"
	}
	if msg != "" {
		m.rep.Warnings = append(m.rep.Warnings, msg)
	}
	if hosts > 1 && len(unsynced) > 0 {
		sort.Strings(unsynced)
		m.rep.Warnings = append(m.rep.Warnings, fmt.Sprintf("the clock of host %s was not synchronised (adjtimex): its interval lines may be misaligned with the other hosts' by any amount", strings.Join(unsynced, ", ")))
	}
}

// sharedLabels are the run labels that tie sources together, in order of
// appearance: a label given to more than one invocation, or given at all
// (lmfast's default label is the invocation's own run id, which ties
// nothing).
func sharedLabels(rep *Report) []string {
	runs := map[string]map[string]bool{}
	for _, s := range rep.Sources {
		if runs[s.Label] == nil {
			runs[s.Label] = map[string]bool{}
		}
		runs[s.Label][s.Run] = true
	}
	var labels []string
	for _, s := range rep.Sources {
		if s.Label == "" || contains(labels, s.Label) {
			continue
		}
		if s.Label != s.Run || len(runs[s.Label]) > 1 {
			labels = append(labels, s.Label)
		}
	}
	return labels
}

// checkLabels warns when the sources are of several run labels (files of
// separate runs merged as one), and when two invocations of one run label
// wrote the same proc: two processes were given the same --process-id,
// registered the same workers, and the controller's counts of those
// workers are not what they sent.
func checkLabels(rep *Report) {
	byProc := map[string]map[int]string{} // label: proc: run
	for _, s := range rep.Sources {
		if s.Label == "" {
			continue
		}
		if byProc[s.Label] == nil {
			byProc[s.Label] = map[int]string{}
		}
		if other, dup := byProc[s.Label][s.Proc]; dup && other != s.Run {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("runs %s and %s of run label %s both wrote proc %d: two processes had the same --process-id, "+
				"so they registered the same workers and the controller dropped each other's keys", other, s.Run, s.Label, s.Proc))
		}
		byProc[s.Label][s.Proc] = s.Run
	}
	if labels := sharedLabels(rep); len(labels) > 1 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the files are of %d run labels (%s): separate runs merged as one", len(labels), strings.Join(labels, ", ")))
	}
}
