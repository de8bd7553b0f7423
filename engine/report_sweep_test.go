package engine

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/slo"
)

// TestMetTargetCountsLateAndDropped: an open loop meets its target only
// when it achieved 95 % of it over its measured time and dropped at most
// 5 % of what was due; without a ceiling, LimitedBy says rate or
// undetermined, and nothing for a closed loop.
func TestMetTargetCountsLateAndDropped(t *testing.T) {
	for _, tc := range []struct {
		name              string
		elapsed           time.Duration
		requests, dropped int64
		met               bool
	}{
		{"on time", time.Second, 100, 0, true},
		{"a few dropped", time.Second, 96, 4, true},
		{"too many dropped", time.Second, 94, 6, false},
		{"all sent, 20 % late", 1200 * time.Millisecond, 100, 0, false},
	} {
		r := &Result{TargetRate: 100, OpenLoop: true, Elapsed: tc.elapsed, Due: 100,
			Ops: []OpResult{{Op: OpP2PLookup, Requests: tc.requests, Sent: tc.requests, Dropped: tc.dropped}}}
		want := LimitedByUndetermined
		if tc.met {
			want = LimitedByRate
		}
		if r.MetTarget() != tc.met || r.LimitedBy() != want {
			t.Errorf("%s: met %v, limited by %q", tc.name, r.MetTarget(), r.LimitedBy())
		}
	}
	if l := (&Result{Elapsed: time.Second}).LimitedBy(); l != "" {
		t.Errorf("closed loop without a ceiling: %q", l)
	}
}

// TestSweepReport: the step table has a row per step with its SLO verdict
// and the capacity line names the highest pass and the failing term.
func TestSweepReport(t *testing.T) {
	mix, _ := ParseOperations("admit:50,p2p_lookup:50")
	spec, err := slo.Parse("p2p_lookup.p99<2ms", SLOOps(mix))
	if err != nil {
		t.Fatal(err)
	}
	step := func(i int, phase string, value float64, p99 int64) *StepResult {
		r := &Result{Elapsed: time.Second, OpenLoop: true, TargetRate: value, Due: int64(value),
			Ops: []OpResult{{Op: OpAdmit, Requests: int64(value) / 2, Sent: int64(value) / 2, Service: hist(1000), Corrected: hist(1000)},
				{Op: OpP2PLookup, Requests: int64(value) / 2, Sent: int64(value) / 2, Service: hist(p99), Corrected: hist(p99)}}}
		rs := slo.Evaluate(spec, r.Observed())
		return &StepResult{Index: i, Phase: phase, Dim: "rate", Value: value, Rate: value, Concurrency: 1, Result: r, SLO: rs, Pass: rs.Pass()}
	}
	steps := []*StepResult{step(1, "coarse", 1000, 500_000), step(2, "coarse", 2000, 5_000_000), step(3, "bisect", 1414, 1_000_000)}
	var b bytes.Buffer
	if err := WriteSweepReport(&b, steps, &CapacityResult{Dim: "rate", SLO: spec, Precision: 0.5, Steps: 3, Pass: steps[2], Fail: steps[1]}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"p2p_lookup p99", "     2 coarse       2000", "FAIL p2p_lookup.p99<2ms (5.001ms)", "     3 bisect       1414",
		"Capacity: 1414 requests/s (the highest rate that met every SLO term; within 50% of 2000, the lowest that failed); step 2 failed p2p_lookup.p99<2ms: 5.001ms (corrected)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
