package engine

import (
	"bytes"
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/stats"
)

func hist(values ...int64) *hdrhistogram.Histogram {
	h := stats.NewHistogram()
	for _, v := range values {
		_ = h.RecordValue(v)
	}
	return h
}

func TestMergeIsExact(t *testing.T) {
	mix, _ := ParseOperations("admit:50,p2p_lookup:50")
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	a := &Result{Elapsed: 10 * time.Second, Drained: true, PushFrames: 10, KVOpsSent: 500, Ops: []OpResult{
		{Op: OpAdmit, Requests: 10, Messages: 500, Service: hist(1000, 2000)},
		{Op: OpP2PLookup, Requests: 5, Messages: 500, Errors: 1, Service: hist(100000), ErrorCounts: map[string]int64{"timeout": 1}},
	}, Config: ReportConfig{Mix: mix, NumInstances: 4},
		Errors: []ErrorCount{{Op: OpP2PLookup, Text: "timeout", Count: 1, First: t0.Add(time.Second)}}}
	b := &Result{Elapsed: 11 * time.Second, Drained: false, PushFrames: 20, KVOpsSent: 1000,
		Errors: []ErrorCount{{Op: OpRegister, Text: "refused", Count: 1, First: t0}, {Op: OpP2PLookup, Text: "timeout", Count: 2, First: t0}},
		Ops: []OpResult{
			{Op: OpAdmit, Requests: 20, Messages: 1000, Service: hist(3000)},
			{Op: OpP2PLookup, Requests: 7, Messages: 700, Errors: 2, Service: hist(200000, 300000), ErrorCounts: map[string]int64{"timeout": 2}},
		}}
	m := Merge([]*Result{a, b})
	if m.Elapsed != 11*time.Second || m.Drained || m.PushFrames != 30 || m.KVOpsSent != 1500 {
		t.Fatalf("merged totals wrong: %+v", m)
	}
	adm, p2p := m.Ops[0], m.Ops[1]
	if adm.Requests != 30 || adm.Messages != 1500 || adm.Service.TotalCount() != 3 || adm.Service.Max() < 2990 {
		t.Fatalf("admit merged wrong: %+v", adm)
	}
	if p2p.Errors != 3 || p2p.ErrorCounts["timeout"] != 3 || p2p.Service.TotalCount() != 3 {
		t.Fatalf("p2p merged wrong: %+v", p2p)
	}
	wantErrs := []ErrorCount{{Op: OpP2PLookup, Text: "timeout", Count: 3, First: t0}, {Op: OpRegister, Text: "refused", Count: 1, First: t0}}
	if !reflect.DeepEqual(m.Errors, wantErrs) {
		t.Fatalf("merged errors %+v, want %+v", m.Errors, wantErrs)
	}
	var buf bytes.Buffer
	if err := WriteAggregatedReport(&buf, m, 2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AGGREGATED RESULTS (2 processes)", "Instances per process: 4", "Total Instances: 8",
		"Aggregated Performance:", "Per-Operation Performance (Aggregated):", "Total Requests: 42", "    Errors: 3",
		"Error Messages:\n  3 x p2p_lookup: timeout\n  1 x register: refused\n"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("aggregated report lacks %q:\n%s", want, buf.String())
		}
	}
}

// TestCPUUtil: CPU time over wall time in cores, never more than the CPUs
// the process may use, and no figure for a window too short to measure.
func TestCPUUtil(t *testing.T) {
	if u, ok := cpuUtil(500*time.Millisecond, time.Second); !ok || u != 0.5 {
		t.Errorf("0.5 s CPU in 1 s: %v, %v", u, ok)
	}
	if u, ok := cpuUtil(1000*time.Second, time.Second); !ok || u != float64(runtime.NumCPU()) {
		t.Errorf("1000 s CPU in 1 s: %v, %v (want %d, the CPUs)", u, ok, runtime.NumCPU())
	}
	if _, ok := cpuUtil(5*time.Millisecond, time.Millisecond); ok {
		t.Errorf("a 1 ms window gave a utilisation")
	}
}

// TestShortRunCPUUtilIsNull: a run whose CPU window is shorter than
// minCPUWindow reports no utilisation (engine/jsonl writes it as null).
func TestShortRunCPUUtilIsNull(t *testing.T) {
	k := enginetest.Start(t)
	cfg := testConfig(k, "admit:100")
	cfg.Duration = 500 * time.Microsecond
	cfg.Warmup = 0
	res, err := Run(context.Background(), cfg, Discard, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed >= minCPUWindow {
		t.Skipf("a loaded machine stretched the 0.5 ms run to %v", res.Elapsed)
	}
	if u, ok := res.CPUUtil(); ok {
		t.Fatalf("a %v run reported a utilisation of %v", res.Elapsed, u)
	}
}
