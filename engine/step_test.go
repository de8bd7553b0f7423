package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/engine/sweep"
)

// TestDueBetweenCountsTheSchedule: dueBetween counts exactly the k with
// from <= Due(k) < to, as a walk over the schedule does.
func TestDueBetweenCountsTheSchedule(t *testing.T) {
	for _, rate := range []float64{1, 7, 1000, 333.3, 20000} {
		p := ConstantPacer{Rate: rate}
		for _, span := range [][2]time.Duration{{0, time.Second}, {300 * time.Millisecond, 800 * time.Millisecond},
			{0, 0}, {time.Second, 500 * time.Millisecond}, {time.Second / 7, 3 * time.Second}} {
			var want uint64
			for k := uint64(0); p.Due(k) < span[1]; k++ {
				if p.Due(k) >= span[0] {
					want++
				}
			}
			if got := dueBetween(p, span[0], span[1]); got != want {
				t.Errorf("rate %v, [%v, %v): %d, want %d", rate, span[0], span[1], got, want)
			}
		}
	}
}

// TestWarmupIsExcluded: what is intended during the warm-up is sent (the
// controller receives more than the run counts) but counted nowhere, not
// even in --raw samples: the run's requests are exactly the samples, all
// intended from Start on, and an open loop's due covers only the measured
// time.
func TestWarmupIsExcluded(t *testing.T) {
	for _, rate := range []float64{0, 1000} {
		k := enginetest.Start(t)
		cfg := testConfig(k, "p2p_lookup:100")
		cfg.Raw, cfg.Rate, cfg.Warmup, cfg.Duration = true, rate, 300*time.Millisecond, 500*time.Millisecond
		rec := &recorder{}
		res, err := Run(context.Background(), cfg, rec, Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		var measured, warm int64
		for _, s := range rec.samples {
			if s.Intended >= res.Start.UnixNano() {
				measured++
			} else {
				warm++
			}
		}
		req, _, errs := res.Totals()
		got := k.Settle()
		if req+errs != measured || warm != 0 || got.ByType["BatchedP2PLookupMsg"] <= measured {
			t.Errorf("rate %v: %d requests + %d errors; samples: %d measured, %d in the warm-up; the sink received %d",
				rate, req, errs, measured, warm, got.ByType["BatchedP2PLookupMsg"])
		}
		if sent, dropped := res.Sent(); sent != req+errs || rate > 0 && (res.Due != 500 || res.Due != sent+dropped) {
			t.Errorf("rate %v: due %d, sent %d, dropped %d", rate, res.Due, sent, dropped)
		}
		if res.Elapsed < cfg.Duration || res.Warmup != cfg.Warmup {
			t.Errorf("rate %v: elapsed %v, warm-up %v", rate, res.Elapsed, res.Warmup)
		}
	}
}

// TestSweepGroupsStepTogether: two groups run a sweep's steps together;
// each step is reported once with their merged figures (due is the whole
// target rate's schedule) and to each group with its own; a group that
// cannot start leaves the sweep instead of holding the others at the
// first step.
func TestSweepGroupsStepTogether(t *testing.T) {
	spec, err := sweep.Parse("rate=200,400")
	if err != nil {
		t.Fatal(err)
	}
	for _, broken := range []bool{false, true} {
		k := enginetest.Start(t)
		rec := &recorder{}
		sw, err := NewSweep(SweepConfig{Spec: spec, StepDuration: 500 * time.Millisecond, Concurrency: 1, Groups: 2, Reporter: rec})
		if err != nil {
			t.Fatal(err)
		}
		results := make([]*Result, 2)
		errs := make([]error, 2)
		own := []*recorder{{}, {}}
		var wg sync.WaitGroup
		for g := range 2 {
			cfg := testConfig(k, "admit:50,p2p_lookup:50")
			cfg.Proc, cfg.NumProcesses, cfg.Senders, cfg.Sweep = g, 2, 1, sw
			if broken && g == 1 {
				cfg.BatchSize = 0
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[g], errs[g] = Run(context.Background(), cfg, own[g], Hooks{})
			}()
		}
		wg.Wait()
		if errs[0] != nil || (errs[1] != nil) != broken {
			t.Fatalf("broken %v: %v", broken, errs)
		}
		groups := 2.0
		if broken {
			groups = 1
		}
		if len(rec.steps) != 2 || len(sw.Steps()) != 2 || sw.Capacity() == nil {
			t.Fatalf("broken %v: %d steps reported", broken, len(rec.steps))
		}
		// Each group also reports its own figures of each step, judged on
		// the merged ones.
		for g, r := range own {
			if broken && g == 1 {
				continue
			}
			if len(r.steps) != 2 || r.steps[1].Result == rec.steps[1].Result || r.steps[1].Pass != rec.steps[1].Pass ||
				r.steps[1].Result.Due*int64(groups) != rec.steps[1].Result.Due {
				t.Errorf("broken %v: group %d reported %d steps", broken, g, len(r.steps))
			}
		}
		for i, st := range rec.steps {
			r := st.Result
			sent, dropped := r.Sent()
			// Each group's share of the rate, 1 sender each, over 500 ms.
			want := int64(groups) * int64(dueBetween(ConstantPacer{Rate: st.Value / 2}, 0, 500*time.Millisecond))
			if st.Index != i+1 || st.Value != float64(200*(i+1)) || st.Rate != st.Value*groups/2 || r.Due != want || sent+dropped != r.Due {
				t.Errorf("broken %v step %d: index %d value %v rate %v due %d (want %d) sent %d dropped %d",
					broken, i+1, st.Index, st.Value, st.Rate, r.Due, want, sent, dropped)
			}
		}
	}
}

// TestSweepInterrupted: cancelling a sweep during its second step ends it
// within the stop budget's reach: the cut step is not judged, the
// capacity says the sweep was interrupted, and the run's figures are
// still returned, marked interrupted, with every due request accounted
// for.
func TestSweepInterrupted(t *testing.T) {
	spec, _ := sweep.Parse("rate=200,400,800")
	mix, _ := ParseOperations("p2p_lookup:100")
	spec2, err := slo.Parse("p2p_lookup.p99<10s", SLOOps(mix))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	rec := &recorder{onStep: func(*StepResult) {
		go func() { time.Sleep(200 * time.Millisecond); cancelled = time.Now(); cancel() }()
	}}
	sw, err := NewSweep(SweepConfig{Spec: spec, SLO: spec2, Precision: 0.05, StepDuration: 1500 * time.Millisecond, Concurrency: 1, Groups: 1, Reporter: rec})
	if err != nil {
		t.Fatal(err)
	}
	k := enginetest.Start(t)
	cfg := testConfig(k, "p2p_lookup:100")
	cfg.Sweep, cfg.Duration = sw, 1500*time.Millisecond
	res, err := Run(ctx, cfg, Discard, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(cancelled); cancelled.IsZero() || el > 10*time.Second {
		t.Fatalf("the sweep ended %v after the cancel", el)
	}
	c := sw.Capacity()
	if len(rec.steps) != 1 || c == nil || !c.Interrupted || c.Pass != rec.steps[0] || len(rec.capacity) != 1 {
		t.Fatalf("%d steps, capacity %+v", len(rec.steps), c)
	}
	sent, dropped := res.Sent()
	if !res.Interrupted || res.Due != sent+dropped || res.Due <= rec.steps[0].Result.Due {
		t.Fatalf("interrupted %v, due %d, sent %d, dropped %d (first step due %d)", res.Interrupted, res.Due, sent, dropped, rec.steps[0].Result.Due)
	}
}
