package engine

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

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
	a := &Result{Elapsed: 10 * time.Second, Drained: true, PushFrames: 10, KVOpsSent: 500, Ops: []OpResult{
		{Op: OpAdmit, Requests: 10, Messages: 500, Service: hist(1000, 2000)},
		{Op: OpP2PLookup, Requests: 5, Messages: 500, Errors: 1, Service: hist(100000), ErrorCounts: map[string]int64{"timeout": 1}},
	}, Config: ReportConfig{Mix: mix, NumInstances: 4}}
	b := &Result{Elapsed: 11 * time.Second, Drained: false, PushFrames: 20, KVOpsSent: 1000, Ops: []OpResult{
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
	var buf bytes.Buffer
	if err := WriteAggregatedReport(&buf, m, 2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AGGREGATED RESULTS (2 processes)", "Instances per process: 4", "Total Instances: 8",
		"Aggregated Performance:", "Per-Operation Performance (Aggregated):", "Total Requests: 42", "    Errors: 3"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("aggregated report lacks %q:\n%s", want, buf.String())
		}
	}
}
