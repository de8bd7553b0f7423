package engine

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func groupsBase(t *testing.T, ops string) Config {
	t.Helper()
	mix, err := ParseOperations(ops)
	if err != nil {
		t.Fatal(err)
	}
	return Config{PullEndpoint: "tcp://127.0.0.1:1", ReplyEndpoint: "tcp://127.0.0.1:2", Duration: time.Second,
		BatchSize: 50, Mix: mix, NumInstances: 2, NumWorkers: 1, NumLocations: 1, NumKeys: 100, NumHashes: 10,
		NumProcesses: 2, Concurrency: 3, Interval: time.Second}
}

// TestGroupsSplitSendersAndCPUs: pinned CPUs go round-robin, one sender
// each; otherwise --senders per group, or half the CPUs shared out, at
// least one per group; every group is numbered and validated.
func TestGroupsSplitSendersAndCPUs(t *testing.T) {
	base := groupsBase(t, "admit:100")
	base.NumInstances = 8
	gs, asked, err := Groups(base, 2, []int{0, 1, 2, 3, 4}, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gs[0].CPUs, []int{0, 2, 4}) || !reflect.DeepEqual(gs[1].CPUs, []int{1, 3}) ||
		gs[0].Senders != 3 || gs[1].Senders != 2 || gs[0].Proc != 0 || gs[1].Proc != 1 || asked != 3 {
		t.Fatalf("pinned: %+v / %+v, asked %d", gs[0], gs[1], asked)
	}
	if cpus := PinnedCPUs(gs); !reflect.DeepEqual(cpus, []int{0, 2, 4, 1, 3}) {
		t.Fatalf("PinnedCPUs %v", cpus)
	}
	for _, tc := range []struct {
		n, senders, numCPU, want int
	}{{2, 5, 64, 5}, {2, 0, 8, 2}, {3, 0, 8, 1}, {1, 0, 1, 1}, {4, 0, 64, 8}} {
		gs, _, err := Groups(base, tc.n, nil, tc.senders, tc.numCPU)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != tc.n {
			t.Fatalf("%d groups, want %d", len(gs), tc.n)
		}
		for _, g := range gs {
			if g.Senders != tc.want || g.CPUs != nil {
				t.Errorf("%d groups, --senders %d, %d CPUs: group %d has %d senders on %v, want %d unpinned",
					tc.n, tc.senders, tc.numCPU, g.Proc, g.Senders, g.CPUs, tc.want)
			}
		}
		if TotalSenders(gs) != tc.n*tc.want || PinnedCPUs(gs) != nil {
			t.Errorf("TotalSenders %d, want %d; PinnedCPUs %v", TotalSenders(gs), tc.n*tc.want, PinnedCPUs(gs))
		}
	}
	bad := base
	bad.BatchSize = 0
	if _, _, err := Groups(bad, 2, nil, 1, 8); err == nil || !strings.Contains(err.Error(), "--batch-size") {
		t.Fatalf("invalid base: err %v", err)
	}
}

// TestRequestLanes: only a mix with a request op (p2p_lookup, register,
// heartbeat) measures round trips, at --concurrency per sender.
func TestRequestLanes(t *testing.T) {
	for ops, want := range map[string]int{"admit:70,evict:30": 0, "admit:95,heartbeat:5": 3, "p2p_lookup:100": 3, "admit:100,heartbeat:0": 0} {
		c := groupsBase(t, ops)
		if got := c.RequestLanes(); got != want {
			t.Errorf("%s: %d lanes, want %d", ops, got, want)
		}
	}
}

// TestShareCeiling: each group's ceiling is its senders' share of the
// machine's, and the shares add up to the whole.
func TestShareCeiling(t *testing.T) {
	gs := []Config{{Senders: 3}, {Senders: 1}}
	ShareCeiling(gs, Ceiling{Transport: "tcp", PushBytes: 700, PushPerSec: 400, RoundTripPerSec: 80, EnginePushPerSec: 200, EngineRoundTripPerSec: 40})
	want := []Ceiling{
		{Transport: "tcp", PushBytes: 700, PushPerSec: 300, RoundTripPerSec: 60, EnginePushPerSec: 150, EngineRoundTripPerSec: 30},
		{Transport: "tcp", PushBytes: 700, PushPerSec: 100, RoundTripPerSec: 20, EnginePushPerSec: 50, EngineRoundTripPerSec: 10},
	}
	for i, g := range gs {
		if g.Ceiling == nil || *g.Ceiling != want[i] {
			t.Fatalf("group %d ceiling %+v, want %+v", i, g.Ceiling, want[i])
		}
	}
	if sum := gs[0].Ceiling.PushPerSec + gs[1].Ceiling.PushPerSec; math.Abs(sum-400) > 1e-9 {
		t.Fatalf("shares add to %v", sum)
	}
}

// TestGroupsCapSendersAtPairs: a group runs at most one sender per
// (instance, worker) pair, keeping the CPUs of those it runs, and asked
// says how many group 0 was given.
func TestGroupsCapSendersAtPairs(t *testing.T) {
	base := groupsBase(t, "admit:100") // 2 instances × 1 worker
	gs, asked, err := Groups(base, 2, []int{0, 1, 2, 3, 4, 5, 6}, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	if asked != 4 || gs[0].Senders != 2 || !reflect.DeepEqual(gs[0].CPUs, []int{0, 2}) ||
		gs[1].Senders != 2 || !reflect.DeepEqual(gs[1].CPUs, []int{1, 3}) {
		t.Fatalf("asked %d; groups %v on %v, %v on %v", asked, gs[0].Senders, gs[0].CPUs, gs[1].Senders, gs[1].CPUs)
	}
	if cpus := PinnedCPUs(gs); len(cpus) != TotalSenders(gs) {
		t.Fatalf("%d pinned CPUs for %d senders: the ceiling's senders would not match", len(cpus), TotalSenders(gs))
	}
	gs, asked, err = Groups(base, 1, nil, 9, 64)
	if err != nil || asked != 9 || gs[0].Senders != 2 || gs[0].CPUs != nil {
		t.Fatalf("--senders 9 over 2 pairs: asked %d, %+v, %v", asked, gs[0], err)
	}
}
