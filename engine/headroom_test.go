package engine

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestHeadroom(t *testing.T) {
	ceiling := &Ceiling{Transport: "tcp", PushBytes: 1800, PushPerSec: 500_000, RoundTripPerSec: 10_000}
	tests := []struct {
		name            string
		pushes          int64
		lookups, failed int64
		rate            float64
		wantLoad        float64
		wantLimit       string
	}{
		{"push only near the ceiling", 450_000, 0, 0, 0, 0.9, LimitedByGenerator},
		{"mixed, held back", 100_000, 2_000, 0, 0, 0.4, LimitedByTarget},
		{"mixed at capacity", 250_000, 4_000, 1_000, 0, 1.0, LimitedByGenerator},
		{"rate met", 100_000, 0, 0, 2_000, 0.2, LimitedByRate},
		{"rate missed", 100_000, 0, 0, 200_000, 0.2, LimitedByTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Elapsed: time.Second, PushFrames: tc.pushes, TargetRate: tc.rate, Ceiling: ceiling,
				Ops: []OpResult{{Op: OpAdmit, Requests: tc.pushes}, {Op: OpP2PLookup, Requests: tc.lookups, Errors: tc.failed}}}
			h, ok := r.Headroom()
			if !ok {
				t.Fatal("no headroom")
			}
			if math.Abs(h.Load-tc.wantLoad) > 1e-9 || h.LimitedBy != tc.wantLimit {
				t.Fatalf("load %v limited by %s; want %v, %s", h.Load, h.LimitedBy, tc.wantLoad, tc.wantLimit)
			}
			var b bytes.Buffer
			if err := WriteHeadroom(&b, r); err != nil || !strings.Contains(b.String(), "Generator load:") {
				t.Fatalf("report %q, %v", b.String(), err)
			}
		})
	}
	if _, ok := (&Result{Elapsed: time.Second}).Headroom(); ok {
		t.Fatal("headroom without a ceiling")
	}
}

// TestMergeAddsCeilingShares: each group carries its share of the
// machine's ceiling; the merged result carries the whole.
func TestMergeAddsCeilingShares(t *testing.T) {
	share := func() *Ceiling {
		return &Ceiling{Transport: "tcp", PushBytes: 100, PushPerSec: 250, RoundTripPerSec: 5}
	}
	m := Merge([]*Result{{Ceiling: share()}, {Ceiling: share()}})
	if m.Ceiling == nil || m.Ceiling.PushPerSec != 500 || m.Ceiling.RoundTripPerSec != 10 || m.Ceiling.PushBytes != 100 {
		t.Fatalf("%+v", m.Ceiling)
	}
}
