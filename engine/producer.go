package engine

import (
	"math/bits"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/wire"
)

// pair is one simulated (instance, worker) that a sender owns. All batches
// of a pair go through one sender, in order, so the controller sees each
// (instance, worker, location) sequence counter increase by exactly one.
// A pair is small (about 70 bytes and 8 per location) so that one process
// simulates hundreds of thousands: its instance's name and encoder are
// shared with the instance's other workers, and its sequence counters are
// a window of one array per sender.
type pair struct {
	instance   string
	worker     int
	registered bool                  // its pre-registration succeeded
	enc        *wire.InstanceEncoder // its instance's, shared
	seq        []int64               // next sequence number per location

	// With heartbeats (Config.HeartbeatInterval): the keys its sent
	// batches left it holding, and its full-sync state.
	held    *heldKeys
	syncing atomic.Bool // a full sync runs (a second command is ignored)
	frozen  atomic.Bool // LMCache's freeze mode: no admit/evict is sent
}

// item is one operation ready to send: its kind, the message count LMCache
// credits it with, and its encoded bytes. Items live in a ring and their
// payload buffers are reused lap after lap.
type item struct {
	op      Op
	msgs    int32
	kvOps   int32 // KV operations inside (admit/evict)
	payload []byte
	checked bool   // a LookupOracle made it: its reply is checked
	expect  Expect // the oracle's expected answer
	// With heartbeats, an admit/evict also carries its worker, location
	// and keys, for the worker's held keys once it is sent.
	pair *pair
	loc  int
	keys []wire.Int
}

// producer encodes one sender's operation stream ahead of time.
type producer struct {
	cfg      *Config
	rng      *rand.Rand
	schedule []Op
	next     int
	pairs    []*pair
	keys     []wire.Int
	hashes   []wire.Int
	keyRNG   wyrand           // draws keys and hashes: the hot part of encoding
	keyDist  *keydist.Sampler // nil: uniform, drawn inline
	ips      []string         // random loopback addresses, drawn once
	peers    []string         // random loopback peer-init URLs, drawn once
	locs     []string         // location names by index
	// cycle, when set, is the order in which the pairs take turns (the
	// --worker-rate uniform arrivals); else each operation's pair is drawn.
	cycle []int
	turn  int
}

// addrPool is how many random addresses a producer draws up front so that
// heartbeat, register and deregister messages need no allocation.
const addrPool = 1024

func newProducer(cfg *Config, pairs []*pair, seed uint64) *producer {
	rng := rand.New(rand.NewPCG(seed, 0x6c6d66617374))
	var dist *keydist.Sampler
	if !cfg.KeyDist.IsUniform() {
		dist = keydist.NewSampler(cfg.KeyDist, uint64(cfg.NumKeys))
	}
	return &producer{
		keyDist:  dist,
		cfg:      cfg,
		rng:      rng,
		schedule: BuildSchedule(cfg.Mix, rng),
		pairs:    pairs,
		keys:     make([]wire.Int, cfg.BatchSize),
		hashes:   make([]wire.Int, cfg.NumHashes),
		keyRNG:   wyrand(rng.Uint64()),
		ips:      randomIPs(rng, addrPool),
		peers:    randomPeers(rng, addrPool),
		locs:     locationNames(cfg.NumLocations),
	}
}

// locationNames returns LocationName(0..n-1).
func locationNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = LocationName(i)
	}
	return out
}

// randomIPs draws n addresses 127.0.b.c with b, c in 1..255, the loopback
// counterpart of LMCache's random 192.168.b.c.
func randomIPs(rng *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = RandomLoopbackIP(1+rng.IntN(255), 1+rng.IntN(255))
	}
	return out
}

// randomPeers draws n peer-init URLs tcp://127.0.b.c:port, port in
// 10000..60000.
func randomPeers(rng *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "tcp://" + RandomLoopbackIP(1+rng.IntN(255), 1+rng.IntN(255)) + ":" + strconv.Itoa(10000+rng.IntN(50001))
	}
	return out
}

// instances are a group's instance names and their encoders, by index,
// shared by every pair of the instance.
type instances struct {
	names []string
	encs  []*wire.InstanceEncoder
}

func newInstances(cfg *Config) *instances {
	in := &instances{names: make([]string, cfg.NumInstances), encs: make([]*wire.InstanceEncoder, cfg.NumInstances)}
	for i := range in.names {
		in.names[i] = InstanceID(cfg.Proc, i)
		in.encs[i] = wire.NewInstanceEncoder(in.names[i])
	}
	return in
}

// newPairs builds the pairs of the instance/worker indexes given, in three
// allocations: the pairs, the pointers to them and their sequence
// counters.
func newPairs(cfg *Config, insts *instances, indexes [][2]int) []*pair {
	pairs := make([]pair, len(indexes))
	out := make([]*pair, len(indexes))
	seq := make([]int64, len(indexes)*cfg.NumLocations)
	for k, iw := range indexes {
		l := cfg.NumLocations
		pairs[k] = pair{instance: insts.names[iw[0]], worker: iw[1], enc: insts.encs[iw[0]], seq: seq[k*l : (k+1)*l : (k+1)*l]}
		if cfg.HeartbeatInterval > 0 {
			pairs[k].held = newHeldKeys(cfg.NumLocations, cfg.NumKeys)
		}
		out[k] = &pairs[k]
	}
	return out
}

// fill encodes the next scheduled operation into it, reusing its buffer.
func (p *producer) fill(it *item) {
	op := p.schedule[p.next]
	p.next++
	if p.next == len(p.schedule) {
		p.next = 0
	}
	var pr *pair
	if p.cycle != nil {
		pr = p.pairs[p.cycle[p.turn]]
		if p.turn++; p.turn == len(p.cycle) {
			p.turn = 0
		}
	} else {
		pr = p.pairs[p.rng.IntN(len(p.pairs))]
	}
	it.op = op
	it.kvOps = 0
	it.checked = false
	it.pair = nil
	buf := it.payload[:0]
	switch op {
	case OpAdmit, OpEvict:
		loc := p.rng.IntN(len(pr.seq))
		p.drawKeys(p.keys)
		kind := wire.OpAdmit
		if op == OpEvict {
			kind = wire.OpEvict
		}
		buf = pr.enc.AppendKeys(buf, int64(pr.worker), p.locs[loc], kind, p.keys, pr.seq[loc])
		if pr.held != nil {
			it.pair, it.loc, it.keys = pr, loc, append(it.keys[:0], p.keys...)
		}
		pr.seq[loc] += int64(len(p.keys))
		it.msgs = int32(len(p.keys))
		it.kvOps = int32(len(p.keys))
	case OpP2PLookup:
		hashes := p.hashes
		if o := p.cfg.Lookups; o != nil {
			hashes, it.expect = o.Lookup(&p.keyRNG, pr.instance, pr.worker, p.hashes[:0])
			it.checked = true
		} else {
			p.drawKeys(hashes)
		}
		buf = pr.enc.AppendP2P(buf, int64(pr.worker), hashes)
		it.msgs = int32(len(hashes))
	case OpHeartbeat, OpRegister:
		ip := p.ips[p.rng.IntN(len(p.ips))]
		port := int64(10000 + p.rng.IntN(50001))
		peer := &p.peers[p.rng.IntN(len(p.peers))]
		if op == OpHeartbeat {
			buf = wire.HeartbeatMsg{InstanceID: pr.instance, WorkerID: int64(pr.worker), IP: ip, Port: port, PeerInitURL: peer}.AppendMsgpack(buf)
		} else {
			buf = wire.RegisterMsg{InstanceID: pr.instance, WorkerID: int64(pr.worker), IP: ip, Port: port, PeerInitURL: peer}.AppendMsgpack(buf)
		}
		it.msgs = 1
	case OpDeregister:
		ip := p.ips[p.rng.IntN(len(p.ips))]
		buf = wire.DeRegisterMsg{InstanceID: pr.instance, WorkerID: int64(pr.worker), IP: ip, Port: int64(10000 + p.rng.IntN(50001))}.AppendMsgpack(buf)
		it.msgs = 1
	}
	it.payload = buf
}

// drawKeys fills keys with keys of 0..NumKeys-1 drawn by --key-dist.
func (p *producer) drawKeys(keys []wire.Int) {
	if p.keyDist == nil {
		for i := range keys {
			keys[i] = wire.IntOf(int64(p.keyRNG.below(uint64(p.cfg.NumKeys))))
		}
		return
	}
	for i := range keys {
		keys[i] = wire.IntOf(int64(p.keyDist.Key(&p.keyRNG)))
	}
}

// Uint64 makes wyrand a keydist.Source.
func (w *wyrand) Uint64() uint64 { return w.next() }

// wyrand is Wang Yi's 64-bit generator: one multiply per draw, several
// times cheaper than PCG, and plenty for drawing uniform keys.
type wyrand uint64

func (w *wyrand) next() uint64 {
	*w += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*w), uint64(*w^0xe7037ed1a0b428db))
	return hi ^ lo
}

// below returns a uniform value in [0, n) by Lemire's multiply-shift
// (no rejection step: the bias is at most n/2^64, far below what any
// benchmark can see).
func (w *wyrand) below(n uint64) uint64 {
	hi, _ := bits.Mul64(w.next(), n)
	return hi
}
