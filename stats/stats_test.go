package stats

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

func TestSummarizePercentiles(t *testing.T) {
	tests := []struct {
		name    string
		values  []int64 // ns
		wantP50 float64 // µs
		wantMax float64
		wantN   int64
	}{
		{"empty", nil, 0, 0, 0},
		{"single", []int64{1500}, 1.5, 1.5, 1},
		{"uniform 1..1000us", seq(1000, 1000), 500, 1000, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			for _, v := range tc.values {
				if err := h.RecordValue(v); err != nil {
					t.Fatal(err)
				}
			}
			s := Summarize(h)
			if s.Count != tc.wantN {
				t.Errorf("count %d want %d", s.Count, tc.wantN)
			}
			if !near(s.P50, tc.wantP50) || !near(s.Max, tc.wantMax) {
				t.Errorf("p50 %.3f max %.3f, want %.3f %.3f (±0.1%%)", s.P50, s.Max, tc.wantP50, tc.wantMax)
			}
		})
	}
}

func TestEncodeMergeIsExact(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i := int64(1); i <= 5000; i++ {
		_ = a.RecordValue(i * 997)
		_ = b.RecordValue(i * 3001)
	}
	ea, err := Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(ea, eb)
	if err != nil {
		t.Fatal(err)
	}
	direct := NewHistogram()
	direct.Merge(a)
	direct.Merge(b)
	if !m.Equals(direct) {
		t.Fatalf("merged-from-encoded differs from direct merge")
	}
	if _, err := Merge("not base64!"); err == nil {
		t.Fatal("Merge accepted garbage")
	}
}

func TestRecorderClampsAndSwaps(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100000; i++ {
			r.Record(int64(i%5000) + 1)
		}
		r.Record(-5)
		r.Record(math.MaxInt64)
	}()
	var total int64
	for i := 0; i < 50; i++ {
		total += r.TakeInterval().TotalCount()
	}
	wg.Wait()
	last := r.TakeInterval()
	total += last.TotalCount()
	if total != 100002 {
		t.Fatalf("recorded %d values across intervals, want 100002", total)
	}
	if r.Clamped() != 2 {
		t.Fatalf("Clamped() = %d, want 2", r.Clamped())
	}
}

func seq(n int, stepNs int64) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(i+1) * stepNs
	}
	return v
}

func near(got, want float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want)/want <= 0.001
}

func ExampleSummarize() {
	h := NewHistogram()
	for _, us := range []int64{10, 20, 30, 40, 1000} {
		_ = h.RecordValue(us * 1000)
	}
	s := Summarize(h)
	fmt.Printf("n=%d p50=%.0fus max=%.0fus\n", s.Count, s.P50, s.Max)
	// Output: n=5 p50=30us max=1000us
}
