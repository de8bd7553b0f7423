package calibrate

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestPlanOrder: per transport, each engine step follows the raw step of
// the same traffic, and the first PUSH carries the batch itself.
func TestPlanOrder(t *testing.T) {
	tr := Traffic{BatchSize: 50, NumKeys: 1000, NumHashes: 10, Lanes: 1, Seed: 3}
	plan := Plan([]string{"tcp", "ipc"}, []int{64, 512}, true, tr)
	var got []string
	for _, s := range plan {
		got = append(got, s.Transport+"/"+s.Kind)
	}
	per := []string{KindPush, KindEnginePush, KindPush, KindPush, KindRoundTrip, KindEngineRoundTrip}
	var want []string
	for _, transport := range []string{"tcp", "ipc"} {
		for _, k := range per {
			want = append(want, transport+"/"+k)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plan %v\nwant %v", got, want)
	}
	if !bytes.Equal(plan[0].payload, SampleBatch(50, 1000, 3)) || len(plan[2].payload) != 64 || len(plan[3].payload) != 512 {
		t.Fatalf("payloads %d, %d, %d bytes", len(plan[0].payload), len(plan[2].payload), len(plan[3].payload))
	}
	if n := len(Plan([]string{"tcp"}, nil, false, tr)); n != 2 {
		t.Fatalf("raw-only plan without sizes has %d steps, want the batch push and the round trip", n)
	}
}

// TestSummarizePairsRounds: medians over the rounds, and each engine step
// divided round by round by the raw step of its traffic (the batch PUSH,
// not the size sweep's; the round trip for the engine's lookups), skipping
// rounds with no raw rate.
func TestSummarizePairsRounds(t *testing.T) {
	plan := Plan([]string{"tcp"}, []int{64}, true, Traffic{BatchSize: 2, NumKeys: 10, NumHashes: 1, Lanes: 1, Seed: 1})
	meas := func(kind string, bytes int, rates ...float64) []Measurement {
		ms := make([]Measurement, len(rates))
		for i, r := range rates {
			ms[i] = Measurement{Kind: kind, Transport: "tcp", Bytes: bytes, Senders: 1, Rate: r}
		}
		return ms
	}
	results := [][]Measurement{
		meas(KindPush, 30, 100, 200, 300),
		meas(KindEnginePush, 31, 50, 150, 150),
		meas(KindPush, 64, 1000, 1000, 1000),
		meas(KindRoundTrip, 40, 10, 0),
		meas(KindEngineRoundTrip, 40, 5, 7),
	}
	sums := Summarize(plan, results)
	if len(sums) != 5 {
		t.Fatalf("%d summaries, want 5", len(sums))
	}
	if s := sums[0]; s.Median != 200 || s.Min != 100 || s.Max != 300 || s.Rounds != 3 || s.VsRaw != nil {
		t.Fatalf("batch push %+v", s)
	}
	push := sums[1].VsRaw
	if push == nil || push.Measure != "push" || push.RawBytes != 30 || !reflect.DeepEqual(push.Ratios, []float64{0.5, 0.75, 0.5}) || push.Median != 0.5 {
		t.Fatalf("engine push vs raw %+v", push)
	}
	if s := sums[3]; s.Median != 5 || s.Rounds != 2 {
		t.Fatalf("round trip median of 10 and 0: %+v", s)
	}
	rt := sums[4].VsRaw
	if rt == nil || rt.Measure != "round_trip" || !reflect.DeepEqual(rt.Ratios, []float64{0.5}) {
		t.Fatalf("engine round trip vs raw %+v (the round with a raw rate of 0 has no ratio)", rt)
	}

	// No raw rounds at all: the engine step is summarised without a ratio,
	// and a step with no measurement is left out.
	results = [][]Measurement{nil, meas(KindEnginePush, 31, 50), nil, nil, nil}
	sums = Summarize(plan, results)
	if len(sums) != 1 || sums[0].Kind != KindEnginePush || sums[0].VsRaw != nil {
		t.Fatalf("summaries %+v", sums)
	}
}

// TestRoundsReportsEachAndStops: every measurement reaches each with its
// round; a failing step ends the rounds with a StepError naming it, after
// keeping what was measured before.
func TestRoundsReportsEachAndStops(t *testing.T) {
	c := short("tcp", 1)
	c.Duration /= 2
	plan := []Step{{Kind: KindPush, Transport: "tcp", payload: filler(64)}, {Kind: "bogus", Transport: "ipc"}}
	var rounds []int
	results, err := Rounds(context.Background(), c, Traffic{}, plan[:1], 2, func(round int, m Measurement) {
		rounds = append(rounds, round)
		if m.Received == 0 || m.Received != m.Sent {
			t.Errorf("round %d: %+v", round, m)
		}
	})
	if err != nil || !reflect.DeepEqual(rounds, []int{1, 2}) || len(results[0]) != 2 {
		t.Fatalf("err %v, rounds reported %v, results %d", err, rounds, len(results[0]))
	}

	results, err = Rounds(context.Background(), c, Traffic{}, plan, 2, nil)
	var se *StepError
	if !errors.As(err, &se) || se.Step.Kind != "bogus" || se.Step.Transport != "ipc" {
		t.Fatalf("err %v, want a StepError of the bogus step", err)
	}
	if len(results[0]) != 1 || len(results[1]) != 0 {
		t.Fatalf("kept %d and %d measurements, want the first round's push only", len(results[0]), len(results[1]))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results, err = Rounds(ctx, c, Traffic{}, plan, 2, nil)
	if err != nil || len(results[0]) != 0 {
		t.Fatalf("cancelled: err %v, %d measurements", err, len(results[0]))
	}
}
