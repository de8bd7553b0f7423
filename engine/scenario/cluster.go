package scenario

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/wire"
)

// cluster is what p2p-stress admitted: workers in the order they were
// registered, each holding prefixes of key chains in its locations, and
// from it the answer LMCache's controller gives each lookup
// (docs/protocol.md, "Requests and replies", BatchedP2PLookupMsg):
//
//   - the first worker, instances in the order their first worker
//     registered and workers in registration order within an instance
//     (so a worker of an instance registered early comes before one of a
//     later instance registered before it), skipping every worker of the
//     requesting instance (the requester's worker id plays no part), whose
//     key set in some location holds hashes[0]; of its locations the first
//     in insertion order that holds hashes[0] (not the one holding most);
//   - the reply's num_hit_chunks is the longest prefix of hashes held in
//     that one location's set; its peer_init_url the worker's registered one;
//   - no such worker: the miss tuple ("", "", 0, "").
//
// Several holders of a prefix are thus ordered by registration alone,
// whatever prefix length each holds. Chain c is the keys c·L .. c·L+L-1
// (L = --num-hashes, the lookup's length) for c < chains = --num-keys/L; a
// hit lookup asks for a whole chain, so its expected hit count is the
// prefix that holder's location holds. Miss lookups ask for keys at or
// above missBase, which nobody holds; sentinels (one per worker, to see
// that its admits were applied) lie above the miss range.
type cluster struct {
	l, chains int
	workers   []simWorker
	locNames  []string
	// entries are every worker's first location holding a chain's first
	// key; byChain[c] indexes them in the controller's search order.
	entries []holding
	byChain [][]int32
	held    []int // chains with a holder, ascending: hit lookups draw among them

	// replies are the expected replies' encodings, by Expect (0: the
	// miss): a reply equal byte for byte needs no decoding.
	replies [][]byte

	hitAt    uint64 // a lookup hits when a uniform 64-bit draw is below it
	dist     *keydist.Sampler
	missBase uint64

	// Counted by Check, from several senders at once.
	checked, hits, misses, wrong, detailed atomic.Int64
}

// simWorker is one registered worker of the cluster.
type simWorker struct {
	instance string
	worker   int
	peer     string
	locs     []int         // location indexes, insertion order
	sets     []map[int]int // per locs[i]: chain → keys held from its start
	sentinel uint64
}

// holding is one worker's location holding a chain's first keys.
type holding struct {
	worker, loc, n int32 // n: chain keys held from its start
}

// holdingsPerWorker is how many chain prefixes each worker admits, drawn by
// --key-dist (so hot chains have many holders), besides its home chain.
const holdingsPerWorker = 4

// maxHitTries bounds the draws of a hit lookup looking for a chain held
// outside the requester's instance.
const maxHitTries = 64

// newCluster draws the holdings of the workers given (in registration
// order): each holds its home chain (worker k: chain k mod chains) and
// holdingsPerWorker chains drawn by dist, each in a location drawn
// uniformly, a prefix of 1..L keys drawn uniformly (a chain drawn twice
// for one location keeps the longer prefix).
func newCluster(workers []simWorker, l, numKeys, numLocations int, dist keydist.Dist, hitRate float64, seed uint64) *cluster {
	c := &cluster{l: l, chains: max(1, numKeys/l), workers: workers}
	c.dist = keydist.NewSampler(dist, uint64(c.chains))
	c.missBase = uint64(c.chains * l)
	for i := 0; i < numLocations; i++ {
		c.locNames = append(c.locNames, engine.LocationName(i))
	}
	rng := rand.New(rand.NewPCG(seed, 0x7032702d73747265))
	src := pcgSource{rng}
	for k := range c.workers {
		w := &c.workers[k]
		w.locs, w.sets = nil, nil
		for h := 0; h <= holdingsPerWorker; h++ {
			chain := k % c.chains
			if h > 0 {
				chain = int(c.dist.Key(src))
			}
			w.hold(rng.IntN(numLocations), chain, 1+rng.IntN(l))
		}
		w.sentinel = c.missBase + uint64(c.chains*l) + uint64(k)
	}
	c.index()
	c.hitAt = uint64(hitRate * (1 << 63) * 2)
	if hitRate >= 1 {
		c.hitAt = ^uint64(0)
	}
	c.dist = keydist.NewSampler(dist, uint64(max(1, len(c.held))))
	return c
}

// hold records that w holds chain's first n keys in location loc.
func (w *simWorker) hold(loc, chain, n int) {
	for i, l := range w.locs {
		if l == loc {
			w.sets[i][chain] = max(w.sets[i][chain], n)
			return
		}
	}
	w.locs = append(w.locs, loc)
	w.sets = append(w.sets, map[int]int{chain: n})
}

// index builds entries and byChain: for every chain, each worker's first
// location (insertion order) holding it, in the controller's search
// order: instances in the order their first worker registered, each
// instance's workers in registration order.
func (c *cluster) index() {
	c.byChain = make([][]int32, c.chains)
	rank := map[string]int{}
	var byInstance [][]int
	for k, w := range c.workers {
		r, ok := rank[w.instance]
		if !ok {
			r = len(byInstance)
			rank[w.instance] = r
			byInstance = append(byInstance, nil)
		}
		byInstance[r] = append(byInstance[r], k)
	}
	var order []int
	for _, ks := range byInstance {
		order = append(order, ks...)
	}
	for _, k := range order {
		w := c.workers[k]
		seen := map[int]bool{}
		for i, loc := range w.locs {
			for chain, n := range w.sets[i] {
				if seen[chain] {
					continue
				}
				seen[chain] = true
				c.entries = append(c.entries, holding{worker: int32(k), loc: int32(loc), n: int32(n)})
				c.byChain[chain] = append(c.byChain[chain], int32(len(c.entries)-1))
			}
		}
	}
	for chain, e := range c.byChain {
		if len(e) > 0 {
			c.held = append(c.held, chain)
		}
	}
	c.replies = make([][]byte, len(c.entries)+1)
	for e := range c.replies {
		c.replies[e] = wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{c.want(engine.Expect(e))}}.AppendMsgpack(nil)
	}
}

// chainKeys appends chain's first n keys to dst.
func (c *cluster) chainKeys(dst []wire.Int, chain, n int) []wire.Int {
	for j := 0; j < n; j++ {
		dst = append(dst, wire.IntOf(int64(chain*c.l+j)))
	}
	return dst
}

// Lookup makes one lookup by a worker of instance: with probability
// hitRate a whole chain drawn by --key-dist among the chains held outside
// that instance, else L keys of the miss range.
func (c *cluster) Lookup(src keydist.Source, instance string, _ int, dst []wire.Int) ([]wire.Int, engine.Expect) {
	if src.Uint64() < c.hitAt && len(c.held) > 0 {
		chain := -1
		for try := 0; try < maxHitTries; try++ {
			chain = c.held[c.dist.Key(src)]
			if e := c.answer(chain, instance); e != 0 {
				return c.chainKeys(dst, chain, c.l), e
			}
		}
		return c.chainKeys(dst, chain, c.l), 0 // held only by the requester's instance: a miss
	}
	hi, _ := bits.Mul64(src.Uint64(), uint64(c.chains*c.l))
	for j := 0; j < c.l; j++ {
		dst = append(dst, wire.IntOf(int64(c.missBase+hi+uint64(j))))
	}
	return dst, 0
}

// answer is the controller's answer to a lookup of chain's L keys by a
// worker of instance: the first holding in search order outside that
// instance (0: none, the miss tuple).
func (c *cluster) answer(chain int, instance string) engine.Expect {
	for _, e := range c.byChain[chain] {
		if c.workers[c.entries[e].worker].instance != instance {
			return engine.Expect(e + 1)
		}
	}
	return 0
}

// want returns the reply tuple e stands for.
func (c *cluster) want(e engine.Expect) wire.LayoutInfo {
	if e == 0 {
		return wire.LayoutInfo{}
	}
	h := c.entries[e-1]
	w := &c.workers[h.worker]
	return wire.LayoutInfo{InstanceID: w.instance, Location: c.locNames[h.loc], NumHitChunks: int64(h.n), PeerInitURL: w.peer}
}

// detailLimit is how many wrong replies are described in full (each text
// is its own error line); later ones count under their kind's text.
const detailLimit = 50

// Check compares a reply with the expected answer: byte for byte with its
// msgspec encoding first, and when that differs, decoded (another valid
// encoding of the same tuple passes).
func (c *cluster) Check(e engine.Expect, reply []byte) string {
	c.checked.Add(1)
	if bytes.Equal(reply, c.replies[e]) {
		if e == 0 {
			c.misses.Add(1)
		} else {
			c.hits.Add(1)
		}
		return ""
	}
	want := c.want(e)
	m, err := wire.Decode(reply)
	if err != nil {
		c.wrong.Add(1)
		return "p2p-stress: undecodable reply: " + err.Error()
	}
	r, ok := m.(*wire.BatchedP2PLookupRetMsg)
	if !ok {
		c.wrong.Add(1)
		return "p2p-stress: unexpected reply " + m.TypeName()
	}
	if len(r.LayoutInfo) != 1 {
		c.wrong.Add(1)
		return fmt.Sprintf("p2p-stress: layout_info has %d entries, want 1", len(r.LayoutInfo))
	}
	got := r.LayoutInfo[0]
	if got == want {
		if e == 0 {
			c.misses.Add(1)
		} else {
			c.hits.Add(1)
		}
		return ""
	}
	c.wrong.Add(1)
	var kind string
	switch {
	case want.InstanceID == "" && want.PeerInitURL == "":
		kind = "miss answered as a hit"
	case got.InstanceID == "" && got.PeerInitURL == "":
		kind = "hit answered as a miss"
	case got.InstanceID != want.InstanceID || got.PeerInitURL != want.PeerInitURL:
		kind = "wrong holder"
	case got.Location != want.Location:
		kind = "wrong location"
	case got.NumHitChunks != want.NumHitChunks:
		kind = "wrong prefix length"
	default:
		kind = "wrong reply"
	}
	if c.detailed.Add(1) > detailLimit {
		return fmt.Sprintf("p2p-stress: %s (details in the first %d error lines)", kind, detailLimit)
	}
	return fmt.Sprintf("p2p-stress: %s: got %s, want %s", kind, tuple(got), tuple(want))
}

// tuple renders a layout tuple as the controller's Python prints it.
func tuple(l wire.LayoutInfo) string {
	return fmt.Sprintf("('%s', '%s', %d, '%s')", l.InstanceID, l.Location, l.NumHitChunks, l.PeerInitURL)
}

// pcgSource makes a math/rand/v2 generator a keydist.Source.
type pcgSource struct{ r *rand.Rand }

func (p pcgSource) Uint64() uint64 { return p.r.Uint64() }
