package engine

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/enginetest"
)

// TestPlacementGlobalGroups: M processes of N groups number their groups
// 0..M·N-1, each exactly once, so no two processes share an instance name;
// a lone process keeps LMCache's names; the rate shares add up to the
// total; a process id outside 0..M-1 is refused.
func TestPlacementGlobalGroups(t *testing.T) {
	const m, n = 3, 2
	seen := map[string]bool{}
	share := 0.0
	for k := range m {
		p := Placement{ProcessID: k, Processes: m, Groups: n}
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if p.TotalGroups() != m*n {
			t.Errorf("TotalGroups %d", p.TotalGroups())
		}
		for g := range n {
			share += p.GroupRate(6000)
			name := InstanceID(p.Proc(g), 0)
			if seen[name] {
				t.Errorf("process %d group %d: %s used twice", k, g, name)
			}
			seen[name] = true
		}
	}
	if len(seen) != m*n || !seen["instance_p5_0"] || share != 6000 {
		t.Errorf("names %v, rate shares sum to %v", seen, share)
	}
	if got := InstanceID((Placement{ProcessID: 0, Processes: 1, Groups: 4}).Proc(3), 7); got != "instance_p3_7" {
		t.Errorf("a lone process names %s", got)
	}
	for _, bad := range []Placement{{ProcessID: 3, Processes: 3, Groups: 1}, {ProcessID: -1, Processes: 3, Groups: 1}, {Processes: 0, Groups: 1}, {Processes: 1, Groups: 0}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := (Placement{ProcessID: 3, Processes: 3, Groups: 1}).Validate(); !strings.Contains(err.Error(), "--process-id 3 is outside 0..2") {
		t.Errorf("error text: %v", err)
	}
}

// TestParseStartAt: RFC 3339 and Unix seconds (with a fraction) name the
// same instant; junk, and an instant more than a day ahead, are refused;
// a past instant is kept (the run then starts at once).
func TestParseStartAt(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	want := time.Date(2026, 12, 5, 12, 0, 30, 500_000_000, time.UTC)
	for _, s := range []string{"2026-12-05T12:00:30.5Z", "2026-12-05T13:00:30.5+01:00", "1796472030.5", " 1796472030.5 "} {
		got, err := ParseStartAt(s, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := ParseStartAt("2026-12-05T11:00:00Z", now); err != nil || !got.Before(now) {
		t.Errorf("a past instant: %v, %v", got, err)
	}
	for _, s := range []string{"", "soon", "NaN", "-5", "1796472030500", "2026-12-07T12:00:00Z", "12:00"} {
		if _, err := ParseStartAt(s, now); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestStartAt: a group with StartAt registers, then starts its timed run
// no earlier than that instant; cancelled while it waits, it ends at
// once, sends no load and still deregisters its workers.
func TestStartAt(t *testing.T) {
	t.Run("waits for the instant", func(t *testing.T) {
		k := enginetest.Start(t)
		cfg := testConfig(k, "admit:50,p2p_lookup:50")
		cfg.Duration = 300 * time.Millisecond
		cfg.StartAt = time.Now().Add(time.Second)
		var started atomic.Int64
		var early []time.Time // intervals handed out before the start
		rec := &recorder{onInterval: func(*Interval) {
			if now := time.Now(); now.Before(cfg.StartAt) {
				early = append(early, now)
			}
		}}
		res, err := Run(context.Background(), cfg, rec,
			Hooks{Started: func() { started.Store(time.Now().UnixNano()) }})
		if err != nil {
			t.Fatal(err)
		}
		if s := time.Unix(0, started.Load()); s.Before(cfg.StartAt) {
			t.Errorf("the timed run started %v before --start-at", cfg.StartAt.Sub(s))
		}
		if len(early) > 0 || len(rec.intervals) == 0 {
			t.Errorf("%d of %d intervals before the start %v", len(early), len(rec.intervals), cfg.StartAt)
		}
		if req, _, _ := res.Totals(); req == 0 || res.RegisteredOK != 12 {
			t.Errorf("%d requests, %d registered", req, res.RegisteredOK)
		}
	})
	t.Run("interrupted while waiting", func(t *testing.T) {
		k := enginetest.Start(t)
		cfg := testConfig(k, "admit:50,p2p_lookup:50")
		cfg.StartAt = time.Now().Add(time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		var cancelled atomic.Int64
		hooks := Hooks{Registered: func(ok, failed int64) bool {
			go func() {
				time.Sleep(1500 * time.Millisecond) // the rings are full after at most 1 s: waiting then
				cancelled.Store(time.Now().UnixNano())
				cancel()
			}()
			return true
		}}
		res, err := Run(ctx, cfg, Discard, hooks)
		if err != nil {
			t.Fatal(err)
		}
		// The bug this catches waits an hour; a generous bound is enough.
		if took := time.Since(time.Unix(0, cancelled.Load())); took > 5*time.Second {
			t.Errorf("Run returned %v after the cancel", took)
		}
		got := k.Settle()
		if req, _, _ := res.Totals(); !res.Interrupted || req != 0 || res.PushFrames != 0 {
			t.Errorf("interrupted %v, %d requests, %d push frames: load sent before --start-at", res.Interrupted, req, res.PushFrames)
		}
		if res.TeardownFrames != 12 || got.ByType["DeRegisterMsg"] != 12 {
			t.Errorf("deregistered %d workers, the sink received %d DeRegisterMsg; want 12", res.TeardownFrames, got.ByType["DeRegisterMsg"])
		}
	})
}
