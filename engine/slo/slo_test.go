package slo_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/stats"
)

// ops are the engine's operations as the engine passes them: admit, evict
// and deregister go on the PUSH socket.
var ops = []slo.Op{{Name: "admit", Push: true}, {Name: "evict", Push: true}, {Name: "heartbeat"},
	{Name: "p2p_lookup"}, {Name: "register"}, {Name: "deregister", Push: true}}

func TestParseTerms(t *testing.T) {
	tests := []struct {
		in        string
		op        string
		stat      slo.Stat
		cmp       slo.Cmp
		threshold float64
		unit      string
	}{
		{"p2p_lookup.p99<2ms", "p2p_lookup", slo.P99, slo.Less, 2e6, "ms"},
		{" p2p_lookup.p999 <= 500us ", "p2p_lookup", slo.P999, slo.LessEq, 500e3, "us"},
		{"p2p_lookup.p99.9<1.5ms", "p2p_lookup", slo.P999, slo.Less, 1.5e6, "ms"},
		{"heartbeat.max<1s", "heartbeat", slo.Max, slo.Less, 1e9, "s"},
		{"register.mean<=800ns", "register", slo.Mean, slo.LessEq, 800, "ns"},
		{"heartbeat.p50<3µs", "heartbeat", slo.P50, slo.Less, 3e3, "us"},
		{"heartbeat.p50<3μs", "heartbeat", slo.P50, slo.Less, 3e3, "us"}, // Greek mu
		{"errors<0.1%", "", slo.Errors, slo.Less, 0.001, "%"},
		{"errors<=0", "", slo.Errors, slo.LessEq, 0, ""},
		{"admit.errors<1%", "admit", slo.Errors, slo.Less, 0.01, "%"},
		{"dropped<1%", "", slo.Dropped, slo.Less, 0.01, "%"},
		{"rate>=5000", "", slo.Rate, slo.GreaterEq, 5000, "/s"},
		{"p2p_lookup.rate>100/s", "p2p_lookup", slo.Rate, slo.Greater, 100, "/s"},
	}
	for _, tc := range tests {
		s, err := slo.Parse(tc.in, ops)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got := s[0]
		if len(s) != 1 || got.Op != tc.op || got.Stat != tc.stat || got.Cmp != tc.cmp ||
			got.Threshold != tc.threshold || got.Unit != tc.unit || got.Text != strings.TrimSpace(tc.in) {
			t.Errorf("%q: got %+v", tc.in, s)
		}
	}
}

// TestParseErrorsNameTheTerm: every bad term is an error naming it exactly
// as written, with the reason.
func TestParseErrorsNameTheTerm(t *testing.T) {
	tests := []struct{ spec, term, reason string }{
		{"p2p_lookup.p99<2ms,errors<0.1%,admit.p99<1ms", "admit.p99<1ms", "PUSH socket"},
		{"evict.p50<1ms", "evict.p50<1ms", "PUSH socket"},
		{"deregister.max<1s", "deregister.max<1s", "PUSH socket"},
		{"p2p_lookup.p99<2", "p2p_lookup.p99<2", "needs a unit"},
		{"p2p_lookup.p99<2mm", "p2p_lookup.p99<2mm", `bad latency unit "mm"`},
		{"p2p_lookup.p98<2ms", "p2p_lookup.p98<2ms", `unknown statistic "p98"`},
		{"lookup.p99<2ms", "lookup.p99<2ms", `unknown operation "lookup" (this run's: admit, evict`},
		{"p99<2ms", "p99<2ms", "names its operation"},
		{"p2p_lookup.p99 2ms", "p2p_lookup.p99 2ms", "no comparator"},
		{"errors=0", "errors=0", "comparator must be"},
		{"errors==0", "errors==0", "comparator must be"},
		{"errors=<1%", "errors=<1%", "comparator must be"},
		{"errors<-1%", "errors<-1%", `bad value "-1%"`},
		{"errors<x", "errors<x", `bad value "x"`},
		{"errors<1ms", "errors<1ms", `bad unit "ms" for errors`},
		{"dropped<101%", "dropped<101%", "above 100%"},
		{"rate>1k", "rate>1k", `bad unit "k" for rate`},
		{"<2ms", "<2ms", "nothing before <"},
		{"p2p_lookup.p99<<2ms", "p2p_lookup.p99<<2ms", `bad value "<2ms"`},
	}
	for _, tc := range tests {
		_, err := slo.Parse(tc.spec, ops)
		var te *slo.TermError
		if !errors.As(err, &te) || te.Term != tc.term || !strings.Contains(err.Error(), fmt.Sprintf("term %q: ", tc.term)) ||
			!strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%q: error %v; want term %q and %q", tc.spec, err, tc.term, tc.reason)
		}
	}
	for _, spec := range []string{"", "  ", "errors<1%,", "errors<1%,,rate>1"} {
		if _, err := slo.Parse(spec, ops); err == nil {
			t.Errorf("%q parsed", spec)
		}
	}
}

// TestEvaluateChoosesLatencyByLoop: the same observation passes in a
// closed loop (service latency) and fails in an open one (corrected).
func TestEvaluateChoosesLatencyByLoop(t *testing.T) {
	s, err := slo.Parse("p2p_lookup.p99<2ms", ops)
	if err != nil {
		t.Fatal(err)
	}
	obs := slo.Observed{Elapsed: time.Second, Ops: []slo.OpObserved{{Op: "p2p_lookup", Requests: 100,
		Service:   slo.Latency{Count: 100, P99: time.Millisecond},
		Corrected: slo.Latency{Count: 100, P99: 30 * time.Millisecond}}}}
	closed := slo.Evaluate(s, obs)
	obs.OpenLoop = true
	open := slo.Evaluate(s, obs)
	if !closed.Pass() || closed[0].Latency != "service" || closed[0].Value != 1e6 {
		t.Errorf("closed loop: %+v", closed)
	}
	if open.Pass() || open[0].Latency != "corrected" || open[0].Value != 30e6 || open[0].ValueString() != "30ms" {
		t.Errorf("open loop: %+v", open)
	}
}

// TestEvaluateRatiosCountsAndRate: errors and dropped as ratios and counts
// over the selected ops, rate over the elapsed time, and the comparators at
// their boundary.
func TestEvaluateRatiosCountsAndRate(t *testing.T) {
	obs := slo.Observed{OpenLoop: true, Elapsed: 2 * time.Second, Ops: []slo.OpObserved{
		{Op: "admit", Requests: 990, Errors: 10, Due: 1000},
		{Op: "p2p_lookup", Requests: 1000, Errors: 0, Due: 1100, Dropped: 100},
	}}
	tests := []struct {
		term  string
		value float64
		pass  bool
	}{
		{"errors<0.5%", 10.0 / 2000, false}, // 0.5 % exactly: < fails
		{"errors<=0.5%", 10.0 / 2000, true}, // <= holds
		{"admit.errors<1%", 10.0 / 1000, false},
		{"p2p_lookup.errors<=0", 0, true},
		{"errors<10", 10, false},
		{"dropped<5%", 100.0 / 2100, true},
		{"p2p_lookup.dropped<5%", 100.0 / 1100, false},
		{"dropped<=100", 100, true},
		{"rate>=995", 1990.0 / 2, true},
		{"rate>995", 1990.0 / 2, false},
		{"p2p_lookup.rate>=500/s", 500, true},
	}
	for _, tc := range tests {
		s, err := slo.Parse(tc.term, ops)
		if err != nil {
			t.Fatal(err)
		}
		r := slo.Evaluate(s, obs)[0]
		if r.NoData || r.Value != tc.value || r.Pass != tc.pass {
			t.Errorf("%s: value %v pass %v no_data %v; want %v %v", tc.term, r.Value, r.Pass, r.NoData, tc.value, tc.pass)
		}
	}
}

// TestNoDataFails: a term with nothing to measure fails rather than pass
// on a zero.
func TestNoDataFails(t *testing.T) {
	obs := slo.Observed{OpenLoop: true, Ops: []slo.OpObserved{{Op: "p2p_lookup",
		Service: slo.Latency{Count: 5, P99: time.Microsecond}}}} // no corrected samples, nothing attempted
	for _, term := range []string{"p2p_lookup.p99<1s", "heartbeat.p99<1s", "errors<100%", "dropped<100%", "rate>=0", "heartbeat.errors<=5"} {
		s, err := slo.Parse(term, ops)
		if err != nil {
			t.Fatal(err)
		}
		r := slo.Evaluate(s, obs)[0]
		if !r.NoData || r.Pass || r.ValueString() != "no data" {
			t.Errorf("%s: %+v", term, r)
		}
	}
}

// TestLatencyOfHistogram: percentiles come from the engine's histogram.
func TestLatencyOfHistogram(t *testing.T) {
	h := stats.NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		h.RecordValue(v * 1000) // 1 µs .. 1 ms
	}
	l := slo.LatencyOf(h)
	near := func(d, want time.Duration) bool { return d >= want && d <= want+want/1000 } // HDR: 3 digits
	if l.Count != 1000 || !near(l.P50, 500*time.Microsecond) || !near(l.P99, 990*time.Microsecond) || !near(l.Max, time.Millisecond) {
		t.Fatalf("%+v", l)
	}
	if slo.LatencyOf(stats.NewHistogram()).Count != 0 || slo.LatencyOf(nil).Count != 0 {
		t.Fatal("empty histogram has samples")
	}
}

func ExampleParse() {
	ops := []slo.Op{{Name: "admit", Push: true}, {Name: "p2p_lookup"}}
	s, err := slo.Parse("p2p_lookup.p99<2ms, errors<0.1%, dropped<1%", ops)
	if err != nil {
		panic(err)
	}
	for _, t := range s {
		fmt.Printf("%-18s op=%q stat=%s %s %g (base unit)\n", t.Text, t.Op, t.Stat, t.Cmp, t.Threshold)
	}
	_, err = slo.Parse("p2p_lookup.p99<2ms,admit.p99<1ms", ops)
	fmt.Println(err)
	// Output:
	// p2p_lookup.p99<2ms op="p2p_lookup" stat=p99 < 2e+06 (base unit)
	// errors<0.1%        op="" stat=errors < 0.001 (base unit)
	// dropped<1%         op="" stat=dropped < 0.01 (base unit)
	// term "admit.p99<1ms": admit is sent on the PUSH socket: its latency is the local enqueue time, not the controller's (use errors or rate)
}

func ExampleEvaluate() {
	ops := []slo.Op{{Name: "admit", Push: true}, {Name: "p2p_lookup"}}
	s, _ := slo.Parse("p2p_lookup.p99<2ms,errors<0.1%,dropped<1%", ops)
	step := slo.Observed{OpenLoop: true, Elapsed: 10 * time.Second, Ops: []slo.OpObserved{
		{Op: "admit", Requests: 50000, Due: 50000},
		{Op: "p2p_lookup", Requests: 49990, Errors: 10, Due: 50200, Dropped: 200,
			Service:   slo.Latency{Count: 49990, P99: 900 * time.Microsecond},
			Corrected: slo.Latency{Count: 50190, P99: 2310 * time.Microsecond}},
	}}
	results := slo.Evaluate(s, step)
	for _, r := range results {
		fmt.Println(r)
	}
	fmt.Println("pass:", results.Pass())
	// Output:
	// p2p_lookup.p99<2ms: 2.31ms (corrected) FAIL
	// errors<0.1%: 0.01% ok
	// dropped<1%: 0.1996% ok
	// pass: false
}
