package engine

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestHeadroom(t *testing.T) {
	ceiling := &Ceiling{Transport: "tcp", PushBytes: 1800, PushPerSec: 500_000, RoundTripPerSec: 10_000,
		EnginePushPerSec: 400_000, EngineRoundTripPerSec: 8_000}
	tests := []struct {
		name            string
		pushes          int64
		lookups, failed int64
		rate            float64
		wantLoad        float64 // of the raw ceiling
		wantEngineLoad  float64
		wantLimit       string
	}{
		{"push at lmfast's own limit, 0.76 of raw", 380_000, 0, 0, 0, 0.76, 0.95, LimitedByGenerator},
		{"mixed, held back", 100_000, 2_000, 0, 0, 0.4, 0.5, LimitedByTarget},
		{"mixed at capacity", 250_000, 4_000, 1_000, 0, 1.0, 1.25, LimitedByGenerator},
		{"near the limit", 320_000, 0, 0, 0, 0.64, 0.8, LimitedByUndetermined},
		{"rate met", 100_000, 0, 0, 2_000, 0.2, 0.25, LimitedByRate},
		{"rate met at capacity", 380_000, 0, 0, 370_000, 0.76, 0.95, LimitedByRate},
		{"rate missed", 100_000, 0, 0, 200_000, 0.2, 0.25, LimitedByTarget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Elapsed: time.Second, PushFrames: tc.pushes, TargetRate: tc.rate, Ceiling: ceiling,
				Ops: []OpResult{{Op: OpAdmit, Requests: tc.pushes}, {Op: OpP2PLookup, Requests: tc.lookups, Errors: tc.failed}}}
			h, ok := r.Headroom()
			if !ok {
				t.Fatal("no headroom")
			}
			if math.Abs(h.Load-tc.wantLoad) > 1e-9 || math.Abs(h.EngineLoad-tc.wantEngineLoad) > 1e-9 || h.LimitedBy != tc.wantLimit {
				t.Fatalf("load %v, engine load %v, limited by %s; want %v, %v, %s", h.Load, h.EngineLoad, h.LimitedBy, tc.wantLoad, tc.wantEngineLoad, tc.wantLimit)
			}
			var b bytes.Buffer
			if err := WriteHeadroom(&b, r); err != nil || !strings.Contains(b.String(), "of lmfast's") {
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
