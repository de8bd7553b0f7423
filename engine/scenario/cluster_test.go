package scenario

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/stream"
	"github.com/lmfast/lmfast/wire"
)

// handCluster is a cluster laid out for the controller's tie rules, L = 4,
// chains 0..2, locations location_0..location_1:
//
//	worker 0  inst_a/0  location_1: chain 0 (2 keys); location_0: chain 0 (4 keys)
//	worker 1  inst_b/0  location_0: chain 0 (3 keys), chain 1 (1 key)
//	worker 2  inst_a/1  location_0: chain 1 (4 keys), chain 2 (2 keys)
//	worker 3  inst_c/0  location_1: chain 2 (4 keys)
func handCluster() *cluster {
	c := &cluster{l: 4, chains: 3, locNames: []string{"location_0", "location_1"}}
	c.missBase = uint64(c.chains * c.l)
	c.workers = []simWorker{
		{instance: "inst_a", worker: 0, peer: engine.PeerInitURL(0)},
		{instance: "inst_b", worker: 0, peer: engine.PeerInitURL(0)},
		{instance: "inst_a", worker: 1, peer: engine.PeerInitURL(1)},
		{instance: "inst_c", worker: 0, peer: engine.PeerInitURL(0)},
	}
	c.workers[0].hold(1, 0, 2)
	c.workers[0].hold(0, 0, 4)
	c.workers[1].hold(0, 0, 3)
	c.workers[1].hold(0, 1, 1)
	c.workers[2].hold(0, 1, 4)
	c.workers[2].hold(0, 2, 2)
	c.workers[3].hold(1, 2, 4)
	for k := range c.workers {
		c.workers[k].sentinel = c.missBase + uint64(c.chains*c.l) + uint64(k)
	}
	c.index()
	return c
}

// TestClusterTieRules: the expected answers follow LMCache's rule: the
// first holder outside the requester's instance, instances in the order
// they first registered and workers in registration order within each,
// its first location in insertion order (not the one holding most), the
// prefix held there; a miss when only the requester's instance holds it.
func TestClusterTieRules(t *testing.T) {
	c := handCluster()
	for _, tc := range []struct {
		chain     int
		requester string
		want      string
	}{
		{0, "inst_z", "('inst_a', 'location_1', 2, 'tcp://127.0.0.1:20000')"}, // first worker, first location, though location_0 holds 4
		{0, "inst_a", "('inst_b', 'location_0', 3, 'tcp://127.0.0.1:20000')"}, // inst_a's workers skipped
		{1, "inst_z", "('inst_a', 'location_0', 4, 'tcp://127.0.0.2:20001')"}, // inst_a registered first: its worker 1 precedes inst_b/0, registered before it
		{1, "inst_b", "('inst_a', 'location_0', 4, 'tcp://127.0.0.2:20001')"},
		{2, "inst_a", "('inst_c', 'location_1', 4, 'tcp://127.0.0.1:20000')"},
		{1, "inst_a", "('inst_b', 'location_0', 1, 'tcp://127.0.0.1:20000')"},
	} {
		if got := tuple(c.want(c.answer(tc.chain, tc.requester))); got != tc.want {
			t.Errorf("chain %d from %s: %s, want %s", tc.chain, tc.requester, got, tc.want)
		}
	}
	// Only inst_a holds nothing alone here; a cluster where it does:
	solo := &cluster{l: 4, chains: 1, locNames: []string{"location_0"}, workers: []simWorker{{instance: "inst_a", peer: "p"}}}
	solo.workers[0].hold(0, 0, 4)
	solo.index()
	if e := solo.answer(0, "inst_a"); e != 0 {
		t.Errorf("a chain only the requester's instance holds: %s, want the miss tuple", tuple(solo.want(e)))
	}
}

// TestClusterAgreesWithTheReferenceController: the hand cluster admitted
// to the reference controller (registered in order, by p2p-stress's own
// setup) answers every (chain, requester) lookup exactly as the cluster
// expects, and Check accepts each reply; a reply for another requester is
// rejected with a text naming both tuples.
func TestClusterAgreesWithTheReferenceController(t *testing.T) {
	srv, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1", HTTPPort: refcontroller.NoPort})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := handCluster()
	p := srv.Ports()
	s := &p2pStress{c: c, env: Env{Out: stream.New(io.Discard, "controller", "t"), Log: io.Discard},
		cfg: engine.Config{PullEndpoint: "tcp://127.0.0.1:" + itoa(p.Pull), ReplyEndpoint: "tcp://127.0.0.1:" + itoa(p.Reply)}}
	if err := s.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Finish(context.Background(), nil, true)
	ctx := context.Background()
	for chain := 0; chain < c.chains; chain++ {
		for _, req := range []string{"inst_a", "inst_b", "inst_c", "inst_z"} {
			hashes := c.chainKeys(nil, chain, c.l)
			payload := wire.BatchedP2PLookupMsg{Hashes: hashes, InstanceID: req, WorkerID: 7}.AppendMsgpack(nil)
			m, err := s.cl.request(ctx, payload)
			if err != nil {
				t.Fatal(err)
			}
			reply := m.(*wire.BatchedP2PLookupRetMsg).AppendMsgpack(nil)
			if msg := c.Check(c.answer(chain, req), reply); msg != "" {
				t.Errorf("chain %d from %s: %s", chain, req, msg)
			}
			if chain == 0 && req == "inst_z" { // inst_a's answer is not inst_z's
				if msg := c.Check(c.answer(chain, "inst_a"), reply); !strings.HasPrefix(msg, "p2p-stress: wrong holder: got ('inst_a', 'location_1', 2,") {
					t.Errorf("a wrong holder passed or was misnamed: %q", msg)
				}
			}
		}
	}
	// A miss lookup.
	m, err := s.cl.request(ctx, wire.BatchedP2PLookupMsg{Hashes: []wire.Int{wire.IntOf(int64(c.missBase))}, InstanceID: "inst_z"}.AppendMsgpack(nil))
	if err != nil {
		t.Fatal(err)
	}
	if msg := c.Check(0, m.(*wire.BatchedP2PLookupRetMsg).AppendMsgpack(nil)); msg != "" {
		t.Errorf("miss: %s", msg)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestClusterLookups: generated lookups hit at --lookup-hit-rate (a hit
// being a chain held outside the requester's instance, its hashes that
// chain's keys), misses ask for keys nobody holds, and the same seed
// makes the same cluster.
func TestClusterLookups(t *testing.T) {
	var workers []simWorker
	for i := 0; i < 8; i++ {
		for w := 0; w < 2; w++ {
			workers = append(workers, simWorker{instance: engine.InstanceID(0, i), worker: w, peer: engine.PeerInitURL(w)})
		}
	}
	d, _ := keydist.Parse("zipf:1.1")
	c := newCluster(append([]simWorker(nil), workers...), 10, 1000, 3, d, 0.7, 42)
	again := newCluster(append([]simWorker(nil), workers...), 10, 1000, 3, d, 0.7, 42)
	if len(c.entries) != len(again.entries) || len(c.held) != len(again.held) {
		t.Fatalf("the same seed made another cluster")
	}
	src := pcgSource{newRand(1)}
	const n = 20000
	hits := 0
	for i := 0; i < n; i++ {
		inst := engine.InstanceID(0, i%8)
		hashes, e := c.Lookup(src, inst, 0, nil)
		if len(hashes) != 10 {
			t.Fatalf("%d hashes", len(hashes))
		}
		first := hashes[0].Bits
		if e == 0 {
			if first < c.missBase && c.answer(int(first)/10, inst) != 0 {
				t.Fatalf("a miss asks for chain %d, held outside %s", first/10, inst)
			}
			continue
		}
		hits++
		h := c.entries[e-1]
		if first%10 != 0 || first >= c.missBase || c.workers[h.worker].instance == inst {
			t.Fatalf("hit %v from %s: hashes from %d", h, inst, first)
		}
	}
	// 0.7 ± 5 standard deviations (0.016).
	if r := float64(hits) / n; math.Abs(r-0.7) > 0.016 {
		t.Errorf("hit share %.3f, want 0.7", r)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

// BenchmarkClusterCheck: a right reply is compared byte for byte; a wrong
// one is decoded to name what differs.
func BenchmarkClusterCheck(b *testing.B) {
	c := handCluster()
	e := c.answer(0, "inst_z")
	right := c.replies[e]
	wrong := c.replies[c.answer(0, "inst_a")]
	b.Run("right", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if c.Check(e, right) != "" {
				b.Fatal("wrong")
			}
		}
	})
	b.Run("wrong", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if c.Check(e, wrong) == "" {
				b.Fatal("right")
			}
		}
	})
}
