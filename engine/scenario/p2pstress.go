package scenario

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/wire"
)

func init() {
	register("p2p-stress", func(p Params) Scenario { return &p2pStress{params: p} })
}

// p2pStress registers the run's workers one after another (so the
// controller's registration order is lmfast's), admits the cluster's
// chain prefixes, waits until each worker's last admit is visible, and
// then lets the engine send its lookups, each made and checked by the
// cluster (cluster.go). At the end it deregisters the workers.
type p2pStress struct {
	params Params
	env    Env
	cfg    engine.Config
	c      *cluster
	cl     *client
	setup  time.Duration
	sent   sent
	// registered are the workers whose registration Setup sent (answered
	// or not): Finish deregisters these and no others.
	registered []int
}

func (s *p2pStress) Name() string { return "p2p-stress" }

// Prepare requires a reply socket and a mix of lookups only (any other
// operation would change what the workers hold or who is registered),
// builds the cluster, and has the engine send its lookups without
// pre-registering (Setup registers, in order).
func (s *p2pStress) Prepare(cfg *engine.Config, env Env) error {
	for _, m := range cfg.Mix {
		if m.Op != engine.OpP2PLookup && m.Pct > 0 {
			return fmt.Errorf("--scenario p2p-stress sends only p2p_lookup (its replies are checked against a cluster that must not change): --operations has %s", m.Op)
		}
	}
	if cfg.ReplyEndpoint == "" {
		return fmt.Errorf("--scenario p2p-stress needs the controller's reply port in --monitor-ports")
	}
	if cfg.NumHashes < 1 {
		return fmt.Errorf("--scenario p2p-stress needs --num-hashes of at least 1 (the length of a looked-up prefix)")
	}
	if cfg.NumKeys < cfg.NumHashes {
		return fmt.Errorf("--scenario p2p-stress needs --num-keys (%d) of at least --num-hashes (%d): the key space holds chains of --num-hashes keys", cfg.NumKeys, cfg.NumHashes)
	}
	var workers []simWorker
	for i := 0; i < cfg.NumInstances; i++ {
		for w := 0; w < cfg.NumWorkers; w++ {
			workers = append(workers, simWorker{instance: engine.InstanceID(cfg.Proc, i), worker: w, peer: engine.PeerInitURL(w)})
		}
	}
	s.c = newCluster(workers, cfg.NumHashes, cfg.NumKeys, cfg.NumLocations, cfg.KeyDist, s.params.LookupHitRate, cfg.Seed)
	cfg.Lookups = s.c
	cfg.RegisterFirst = false
	cfg.ExtraFrames = &s.sent.frames
	s.env, s.cfg = env, *cfg
	return nil
}

// Setup registers the workers in order, admits their holdings and waits
// until the controller applied them.
func (s *p2pStress) Setup(ctx context.Context) error {
	start := time.Now()
	var err error
	if s.cl, err = newClient(s.cfg.PullEndpoint, s.cfg.ReplyEndpoint, requestTimeout(s.cfg), &s.sent); err != nil {
		return err
	}
	c := s.c
	if s.env.HTTP != "" {
		// A worker registered already keeps its place in the controller's
		// order, which is then not lmfast's: refuse rather than count its
		// answers wrong.
		list, err := listWorkers(ctx, s.env.HTTP)
		if err != nil {
			return fmt.Errorf("p2p-stress: reading the controller's worker list: %v", err)
		}
		mine := map[workerName]bool{}
		for _, w := range c.workers {
			mine[workerName{w.instance, int64(w.worker)}] = true
		}
		for _, w := range list {
			if mine[w] {
				return fmt.Errorf("p2p-stress: the controller has %s registered already (left by another run?): the registration order would not be lmfast's", w)
			}
		}
	}
	payloads := make([][]byte, len(c.workers))
	for k, w := range c.workers {
		peer := w.peer
		payloads[k] = wire.RegisterMsg{InstanceID: w.instance, WorkerID: int64(w.worker), IP: engine.WorkerIP(w.worker),
			Port: int64(engine.WorkerPort(w.worker)), PeerInitURL: &peer}.AppendMsgpack(nil)
	}
	// One DEALER, its requests answered in the order sent: the controller
	// registers the workers in c.workers' order.
	replies, errs := s.cl.requests(ctx, payloads, 64)
	for k := range payloads {
		s.registered = append(s.registered, k)
	}
	for k := range payloads {
		why := ""
		if errs[k] != nil {
			why = errs[k].Error()
		} else {
			why = registerReply(replies[k])
		}
		if why != "" {
			return fmt.Errorf("p2p-stress: registering %s worker %d: %s", c.workers[k].instance, c.workers[k].worker, why)
		}
	}
	var keys int64
	var buf []byte
	var chainKeys []wire.Int
	for _, w := range c.workers {
		for i, loc := range w.locs {
			chains := make([]int, 0, len(w.sets[i]))
			for ch := range w.sets[i] {
				chains = append(chains, ch)
			}
			sort.Ints(chains)
			chainKeys = chainKeys[:0]
			for _, ch := range chains {
				chainKeys = c.chainKeys(chainKeys, ch, w.sets[i][ch])
			}
			if i == 0 {
				chainKeys = append(chainKeys, wire.IntOf(int64(w.sentinel)))
			}
			buf = wire.NewBatchEncoder(w.instance, int64(w.worker), c.locNames[loc]).AppendKeys(buf[:0], wire.OpAdmit, chainKeys, 0)
			if err := s.cl.send(buf, len(chainKeys)); err != nil {
				return fmt.Errorf("p2p-stress: admitting the cluster's keys: %v", err)
			}
			keys += int64(len(chainKeys))
		}
	}
	if err := s.awaitSentinels(ctx); err != nil {
		return err
	}
	s.setup = time.Since(start)
	s.env.Out.Event("scenario").Str("scenario", s.Name()).Str("phase", "setup").
		Int("workers", len(c.workers)).Int("chains", c.chains).Int("chains_held", len(c.held)).Int("holdings", len(c.entries)).
		Int64("keys_admitted", keys).Float64("lookup_hit_rate", s.params.LookupHitRate).Str("key_dist", s.cfg.KeyDist.String()).
		Float64("setup_s", s.setup.Seconds()).Send()
	fmt.Fprintf(s.env.Log, "lmfast: scenario p2p-stress: %d workers registered in order, %d chain prefixes admitted (%d keys) in %.1fs; lookups hit %.0f%%\n",
		len(c.workers), len(c.entries), keys, s.setup.Seconds(), 100*s.params.LookupHitRate)
	return nil
}

// probeInstance is the requester of lmfast's own check lookups: no worker
// belongs to it, so none is skipped.
const probeInstance = "lmfast-probe"

// sentinelWait bounds how long Setup waits for the controller to apply
// the cluster's admits.
const sentinelWait = 30 * time.Second

// awaitSentinels looks up every worker's sentinel key (admitted last, in
// its first location) until each is found there: the controller applies a
// worker's batches in order, so its holdings are all applied then.
func (s *p2pStress) awaitSentinels(ctx context.Context) error {
	c := s.c
	pending := make([]int, len(c.workers))
	for k := range pending {
		pending[k] = k
	}
	deadline := time.Now().Add(sentinelWait)
	for len(pending) > 0 {
		payloads := make([][]byte, len(pending))
		for i, k := range pending {
			payloads[i] = wire.BatchedP2PLookupMsg{Hashes: []wire.Int{wire.IntOf(int64(c.workers[k].sentinel))}, InstanceID: probeInstance}.AppendMsgpack(nil)
		}
		replies, errs := s.cl.requests(ctx, payloads, 64)
		var left []int
		for i, k := range pending {
			if errs[i] != nil {
				return fmt.Errorf("p2p-stress: waiting for the admits to apply: %v", errs[i])
			}
			w := &c.workers[k]
			want := wire.LayoutInfo{InstanceID: w.instance, Location: c.locNames[w.locs[0]], NumHitChunks: 1, PeerInitURL: w.peer}
			r, ok := replies[i].(*wire.BatchedP2PLookupRetMsg)
			switch {
			case !ok || len(r.LayoutInfo) != 1:
				return fmt.Errorf("p2p-stress: unexpected reply %s to a lookup", replies[i].TypeName())
			case r.LayoutInfo[0] == want:
			case r.LayoutInfo[0] == wire.LayoutInfo{}:
				left = append(left, k)
			default:
				return fmt.Errorf("p2p-stress: the lookup of %s worker %d's own key answered %s, want %s", w.instance, w.worker, tuple(r.LayoutInfo[0]), tuple(want))
			}
		}
		pending = left
		if len(pending) > 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("p2p-stress: %d workers' admits not applied after %s", len(pending), sentinelWait)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

// Run has nothing to do beside the engine's lookups.
func (s *p2pStress) Run(ctx context.Context) { <-ctx.Done() }

// Interval writes the replies checked so far.
func (s *p2pStress) Interval(end time.Duration) {
	c := s.c
	s.env.Out.Event("scenario").Str("scenario", s.Name()).Str("phase", "interval").Float64("t_s", end.Seconds()).
		Int64("checked", c.checked.Load()).Int64("hits", c.hits.Load()).Int64("misses", c.misses.Load()).Int64("wrong", c.wrong.Load()).Send()
}

// Finish deregisters the workers and reports the checks.
func (s *p2pStress) Finish(ctx context.Context, res *engine.Result, interrupted bool) error {
	c := s.c
	if s.cl != nil {
		for _, k := range s.registered {
			w := c.workers[k]
			_ = s.cl.send(wire.DeRegisterMsg{InstanceID: w.instance, WorkerID: int64(w.worker), IP: engine.WorkerIP(w.worker),
				Port: int64(engine.WorkerPort(w.worker))}.AppendMsgpack(nil), 0)
		}
		linger := s.cfg.DrainTimeout
		if interrupted {
			linger = 200 * time.Millisecond
		}
		s.cl.close(linger)
	}
	checked, hits, misses, wrong := c.checked.Load(), c.hits.Load(), c.misses.Load(), c.wrong.Load()
	ratio := 0.0
	if hits+misses > 0 {
		ratio = float64(hits) / float64(hits+misses)
	}
	ok := wrong == 0 && checked > 0
	s.env.Out.Event("scenario").Str("scenario", s.Name()).Str("phase", "end").
		Int64("checked", checked).Int64("hits", hits).Int64("misses", misses).Int64("wrong", wrong).
		Float64("hit_ratio", ratio).Float64("lookup_hit_rate", s.params.LookupHitRate).Bool("ok", ok).Send()
	fmt.Fprintf(s.env.Log, "lmfast: scenario p2p-stress: %d replies checked, %d hits (%.1f%%), %d misses, %d wrong\n",
		checked, hits, 100*ratio, misses, wrong)
	switch {
	case wrong > 0:
		return fmt.Errorf("p2p-stress: %d of %d lookup replies were wrong (see the error lines)", wrong, checked)
	case checked == 0 && !interrupted:
		return fmt.Errorf("p2p-stress: no lookup reply was checked")
	}
	return nil
}

// Extra returns the frames Setup and Finish sent.
func (s *p2pStress) Extra() (int64, int64) { return s.sent.frames.Load(), s.sent.kvOps.Load() }

// requestTimeout is the run's request timeout (LMCache's 5 s when unset).
func requestTimeout(cfg engine.Config) time.Duration {
	if cfg.RequestTimeout > 0 {
		return cfg.RequestTimeout
	}
	return engine.DefaultRequestTimeout
}

// defaultOperations: lookups only.
func (s *p2pStress) defaultOperations() string { return "p2p_lookup:100" }
