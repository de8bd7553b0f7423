package refcontroller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/wiretest"
	"github.com/lmfast/lmfast/zmqx"
)

// client is a test worker: a PUSH to the pull port and DEALERs to the
// reply and heartbeat ports.
type client struct {
	t             testing.TB
	ctx           *zmq.Context
	push, req, hb *zmq.Socket
	pushed        int64 // frames sent on push
}

// waitMax bounds every wait for the server: generous, since a wait ends as
// soon as its condition holds.
const waitMax = 30 * time.Second

// settle waits until the server has read every frame c pushed and applied
// them, and returns its counters.
func (c *client) settle(s *Server) Counters {
	c.t.Helper()
	got := s.WaitFrames(c.pushed, waitMax)
	if got.PullFrames < c.pushed {
		c.t.Fatalf("the server read %d of the %d frames pushed within %v", got.PullFrames, c.pushed, waitMax)
	}
	return got
}

// sendFrames sends raw frames as one multipart message on push.
func (c *client) sendFrames(frames ...[]byte) {
	c.t.Helper()
	parts := make([]any, len(frames))
	for i, f := range frames {
		parts[i] = f
	}
	if _, err := c.push.SendMessage(parts...); err != nil {
		c.t.Fatal(err)
	}
	c.pushed += int64(len(frames))
}

// waitFor polls cond until it holds, failing the test after waitMax.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitMax)
		}
		time.Sleep(time.Millisecond)
	}
}

func newClient(t testing.TB, p Ports) *client {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ctx: ctx}
	if c.push, err = zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Pull)); err != nil {
		t.Fatal(err)
	}
	if c.req, err = zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Reply)); err != nil {
		t.Fatal(err)
	}
	if p.Heartbeat > 0 {
		if c.hb, err = zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Heartbeat)); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, s := range []*zmq.Socket{c.push, c.req, c.hb} {
			if s != nil {
				s.SetLinger(0)
				s.Close()
			}
		}
		ctx.Term()
	})
	return c
}

// ask sends a request and returns the reply bytes.
func (c *client) ask(sock *zmq.Socket, m wire.Msg) []byte {
	c.t.Helper()
	return c.askRaw(sock, m.AppendMsgpack(nil))
}

func (c *client) askRaw(sock *zmq.Socket, payload []byte) []byte {
	c.t.Helper()
	if err := zmqx.SendRequest(sock, payload); err != nil {
		c.t.Fatal(err)
	}
	reply, err := zmqx.RecvReply(sock)
	if err != nil {
		c.t.Fatalf("no reply: %v", err)
	}
	return reply
}

func (c *client) pushMsg(frames ...wire.Msg) {
	c.t.Helper()
	raw := make([][]byte, len(frames))
	for i, f := range frames {
		raw[i] = f.AppendMsgpack(nil)
	}
	c.sendFrames(raw...)
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Host = "127.0.0.1"
	if cfg.Log.GetLevel() == zerolog.DebugLevel && cfg.HTTPPort == 0 {
		cfg.Log = zerolog.Nop()
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func batch(inst string, op wire.OpType, firstSeq int64, keys ...int64) *wire.BatchedKVOperationMsg {
	b := &wire.BatchedKVOperationMsg{InstanceID: inst, WorkerID: 0, Location: "location_0"}
	for i, k := range keys {
		b.Operations = append(b.Operations, wire.KVOpEvent{OpType: op, Key: wire.IntOf(k), SeqNum: firstSeq + int64(i)})
	}
	return b
}

func hashes(keys ...int64) []wire.Int {
	out := make([]wire.Int, len(keys))
	for i, k := range keys {
		out[i] = wire.IntOf(k)
	}
	return out
}

func register(inst string, peer *string) wire.RegisterMsg {
	return wire.RegisterMsg{InstanceID: inst, WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: peer}
}

// TestScriptedSession walks a worker's life through the controller and
// checks replies (against the golden bytes where they exist) and state at
// each step, following docs/protocol.md, "The controller".
func TestScriptedSession(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: FreePort, HTTPPort: FreePort, Log: zerolog.Nop()})
	p := s.Ports()
	c := newClient(t, p)
	peerA := "tcp://127.0.0.1:20000"
	golden := func(name string) []byte { return wiretest.ByName(t, name).Bytes(t) }
	settle := func() Counters { return c.settle(s) }

	// 1. register A, B (with peers) and C (no peer); the reply carries the heartbeat URL.
	wantReg := wire.RegisterRetMsg{ExtraConfig: []wire.StrPair{{Key: "heartbeat_url", Value: fmt.Sprintf("127.0.0.1:%d", p.Heartbeat)}}}.AppendMsgpack(nil)
	for _, inst := range []string{"A", "B"} {
		if got := c.ask(c.req, register(inst, &peerA)); !bytes.Equal(got, wantReg) {
			t.Fatalf("register %s reply %x, want %x", inst, got, wantReg)
		}
	}
	c.ask(c.req, register("C", nil))
	if got := s.Counters().Registered; got != 3 {
		t.Fatalf("registered %d, want 3", got)
	}

	// 2. batches: contiguous, then a gap, then one from an unregistered worker.
	c.pushMsg(batch("A", wire.OpAdmit, 0, 1, 2, 3))
	c.pushMsg(batch("A", wire.OpAdmit, 5, 4))    // expected 3, got 5: one discontinuity
	c.pushMsg(batch("X", wire.OpAdmit, 0, 7, 8)) // not registered: dropped
	c.pushMsg(batch("C", wire.OpAdmit, 0, 50))
	got := settle()
	if got.KVOpsApplied != 5 || got.Batches != 3 || got.SeqDiscontinuity != 1 || got.DroppedBatches != 1 || got.DroppedKVOps != 2 || got.Keys != 5 {
		t.Fatalf("after batches: %+v", got)
	}

	// 3. p2p lookups: hit with prefix, skip own instance, miss, empty, holder without peer.
	lookup := func(from string, keys ...int64) []byte {
		return c.ask(c.req, wire.BatchedP2PLookupMsg{Hashes: hashes(keys...), InstanceID: from})
	}
	hit := wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{InstanceID: "A", Location: "location_0", NumHitChunks: 3, PeerInitURL: peerA}}}.AppendMsgpack(nil)
	miss := golden("p2p_lookup_ret_miss")
	for _, tc := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"prefix of 3", lookup("B", 1, 2, 3, 9, 4), hit},
		{"prefix of 1", lookup("B", 1, 9, 2), wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{InstanceID: "A", Location: "location_0", NumHitChunks: 1, PeerInitURL: peerA}}}.AppendMsgpack(nil)},
		{"own instance skipped", lookup("A", 1, 2), miss},
		{"absent first key", lookup("B", 9, 1), miss},
		{"empty hashes", lookup("B"), miss},
		{"holder without peer", lookup("B", 50), miss},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("lookup %s: %x, want %x", tc.name, tc.got, tc.want)
		}
	}

	// 4. evict then look up: the evicted first key misses.
	c.pushMsg(batch("A", wire.OpEvict, 6, 1))
	settle()
	if got := lookup("B", 1, 2); !bytes.Equal(got, miss) {
		t.Errorf("lookup after evict: %x", got)
	}

	// 5. heartbeats: registered → controller_restart (golden bytes); unknown
	// → re-registered; a non-heartbeat on the heartbeat socket → ErrorMsg.
	hbA := wire.HeartbeatMsg{InstanceID: "A", WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: &peerA}
	if got := c.ask(c.hb, hbA); !bytes.Equal(got, golden("heartbeat_ret_fullsync")) {
		t.Errorf("heartbeat reply %x", got)
	}
	if got := c.ask(c.req, hbA); !bytes.Equal(got, golden("heartbeat_ret_fullsync")) {
		t.Errorf("heartbeat on reply socket %x", got)
	}
	hbZ := wire.HeartbeatMsg{InstanceID: "Z", WorkerID: 0, IP: "127.0.0.9", Port: 10009}
	wantZ := wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{wire.FullSyncCommand("worker_re_registered")}}.AppendMsgpack(nil)
	if got := c.ask(c.hb, hbZ); !bytes.Equal(got, wantZ) || s.Counters().Registered != 4 {
		t.Errorf("unregistered heartbeat: %x, registered %d", got, s.Counters().Registered)
	}
	wantErr := wire.ErrorMsg{Error: "Expected HeartbeatMsg, got <class 'lmcache.v1.cache_controller.message.RegisterMsg'>"}.AppendMsgpack(nil)
	if got := c.ask(c.hb, register("A", &peerA)); !bytes.Equal(got, wantErr) {
		t.Errorf("register on heartbeat socket: %x", got)
	}

	// 6. duplicate register clears A's keys and sequence trackers.
	before := settle().Keys
	c.ask(c.req, register("A", &peerA))
	if got := s.Counters(); got.Keys != before-3 || got.Registered != 4 {
		t.Fatalf("duplicate register: keys %d (was %d), registered %d", got.Keys, before, got.Registered)
	}
	c.pushMsg(batch("A", wire.OpAdmit, 100, 11)) // first batch after the reset: never a gap
	if got := settle(); got.SeqDiscontinuity != 1 {
		t.Fatalf("seq tracker not reset: %d discontinuities", got.SeqDiscontinuity)
	}

	// 7. deregister A; its next batch is dropped.
	c.pushMsg(&wire.DeRegisterMsg{InstanceID: "A", WorkerID: 0, IP: "127.0.0.1", Port: 10000})
	c.pushMsg(batch("A", wire.OpAdmit, 101, 12))
	got = settle()
	if got.Registered != 3 || got.Deregistered != 1 || got.DroppedBatches != 2 {
		t.Fatalf("after deregister: %+v", got)
	}

	// 8. errors: unknown type on the reply socket, undecodable payload.
	if got := c.ask(c.req, &wire.DeRegisterMsg{InstanceID: "B"}); !bytes.Equal(got,
		wire.ErrorMsg{Error: "Unknown message type: <class 'lmcache.v1.cache_controller.message.DeRegisterMsg'>"}.AppendMsgpack(nil)) {
		t.Errorf("unknown type reply: %x", got)
	}
	if got := c.askRaw(c.req, []byte{0x05}); !bytes.Equal(got, wire.ErrorMsg{Error: "Expected `object`, got `int`"}.AppendMsgpack(nil)) {
		t.Errorf("int payload reply: %x", got)
	}

	// 9. HTTP: real metric names and key stats.
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", p.HTTP))
	for _, name := range []string{"lmcache:cache_controller_kv_pool_keys_count", `lmcache:cache_controller_registered_workers_count{role="controller"} 3`,
		"lmcache:cache_controller_pull_socket_message_count", `lmcache:cache_controller_kv_op_seq_discontinuity_count{role="controller"} 1`,
		"lmfast_controller_kv_ops_dropped_unregistered_total 3", `lmfast_controller_messages_total{type="BatchedKVOperationMsg"}`} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
	var ks keyStatsResponse
	if err := json.Unmarshal([]byte(httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/controller/key-stats", p.HTTP))), &ks); err != nil {
		t.Fatal(err)
	}
	if ks.TotalWorkerCount != 3 || ks.TotalKeyCount != s.Counters().Keys || ks.Instances[0].InstanceID != "B" {
		t.Errorf("key-stats %+v", ks)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestNoHeartbeatPortRegisterReplyIsGolden: without a heartbeat socket (the
// real controller's default) RegisterRetMsg has an empty extra_config,
// byte for byte the golden vector.
func TestNoHeartbeatPortRegisterReplyIsGolden(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	if got, want := c.ask(c.req, register("A", &peer)), wiretest.ByName(t, "register_ret_empty").Bytes(t); !bytes.Equal(got, want) {
		t.Fatalf("reply %x, want golden %x", got, want)
	}
}

// TestPullSurvivesGarbageUnlessCompat: a bad PULL frame is counted and the
// next good one still applies; with CompatPullDies the loop stops reading.
func TestPullSurvivesGarbageUnlessCompat(t *testing.T) {
	for _, compat := range []bool{false, true} {
		t.Run(fmt.Sprint("compat=", compat), func(t *testing.T) {
			s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, CompatPullDies: compat, Log: zerolog.Nop()})
			c := newClient(t, s.Ports())
			peer := "tcp://127.0.0.1:20000"
			c.ask(c.req, register("A", &peer))
			c.sendFrames([]byte{0xc1, 0xff}, []byte("{not json"))
			c.pushMsg(batch("A", wire.OpAdmit, 0, 1, 2))
			if compat {
				// The loop dies at the first bad frame; the frames of that
				// message are counted, as LMCache's gauge counts them, and
				// the batch after it can never be read.
				got := s.WaitFrames(2, waitMax)
				if got.PullFrames != 2 || got.PullDecodeErrors != 1 || got.KVOpsApplied != 0 {
					t.Fatalf("compat: %+v", got)
				}
				return
			}
			got := c.settle(s)
			if got.PullDecodeErrors != 2 || got.KVOpsApplied != 2 {
				t.Fatalf("after garbage: %+v", got)
			}
		})
	}
}

// TestShortRouterMessageGetsNoReply: fewer than 3 frames is logged and
// counted, never answered. Once it is counted, a valid request on the same
// socket gets the first reply: an answer to the short message, sent
// before, would have come first.
func TestShortRouterMessageGetsNoReply(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	if _, err := c.req.SendBytes([]byte{0x80}, 0); err != nil { // ROUTER sees [identity, payload]: 2 frames
		t.Fatal(err)
	}
	waitFor(t, "the short message counted", func() bool { return s.Counters().ShortRequests == 1 })
	peer := "tcp://127.0.0.1:20000"
	if m, err := wire.Decode(c.ask(c.req, register("A", &peer))); err != nil || m.TypeName() != wire.TypeRegisterRetMsg {
		t.Fatalf("first reply after a 2-frame message: %v %v, want the RegisterRetMsg", m, err)
	}
	if got := s.Counters().ShortRequests; got != 1 {
		t.Fatalf("ShortRequests = %d", got)
	}
}

func TestPortInUse(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	_, err := Start(context.Background(), Config{Host: "127.0.0.1", PullPort: s.Ports().Pull, HeartbeatPort: NoPort, HTTPPort: NoPort})
	var be *BindError
	if err == nil || !errorsAs(err, &be) || be.Socket != "pull" || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("second bind: %v", err)
	}
}

func ExampleStart() {
	s, err := Start(context.Background(), Config{Host: "127.0.0.1", HeartbeatPort: FreePort, HTTPPort: NoPort, Log: zerolog.Nop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	fmt.Println(s.Ports().Pull > 0, s.Ports().Heartbeat > 0, s.Counters().Registered)
	// Output: true true 0
}

// TestWorkersAPI: /controller/workers answers in the real API's shapes
// (worker_info_api.py): the list, one instance, one worker, the 404s, and
// FastAPI's 422 for a worker_id that is not an integer.
func TestWorkersAPI(t *testing.T) {
	s := startServer(t, Config{HTTPPort: FreePort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	c.ask(c.req, register("A", &peer))
	c.ask(c.req, wire.RegisterMsg{InstanceID: "A", WorkerID: 1, IP: "127.0.0.2", Port: 10001})
	c.ask(c.req, register("B", nil))
	c.pushMsg(batch("A", wire.OpAdmit, 0, 1, 2, 3))
	c.settle(s)

	get := func(query string) (int, map[string]any) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/controller/workers%s", s.Ports().HTTP, query))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return resp.StatusCode, body
	}
	for _, tc := range []struct {
		query  string
		status int
		check  func(map[string]any) bool
	}{
		{"", 200, func(b map[string]any) bool { return b["total_count"] == 3.0 && len(b["workers"].([]any)) == 3 }},
		{"?worker_id=1", 200, func(b map[string]any) bool { return b["total_count"] == 3.0 }},
		{"?instance_id=A", 200, func(b map[string]any) bool {
			ws := b["workers"].([]any)
			return b["total_count"] == 2.0 && ws[0].(map[string]any)["key_count"] == 3.0 && ws[1].(map[string]any)["worker_id"] == 1.0
		}},
		{"?instance_id=A&worker_id=0", 200, func(b map[string]any) bool {
			return b["instance_id"] == "A" && b["key_count"] == 3.0 && b["peer_init_url"] == peer && b["ip"] == "127.0.0.1" && b["registration_time"].(float64) > 0
		}},
		{"?instance_id=B&worker_id=0", 200, func(b map[string]any) bool { return b["peer_init_url"] == nil && b["key_count"] == 0.0 }},
		{"?instance_id=Q", 404, func(b map[string]any) bool { return b["detail"] == "No workers found for instance Q" }},
		{"?instance_id=A&worker_id=7", 404, func(b map[string]any) bool { return b["detail"] == "Worker (A, 7) not found" }},
		{"?worker_id=x", 422, func(b map[string]any) bool {
			d := b["detail"].([]any)[0].(map[string]any)
			return d["type"] == "int_parsing" && d["input"] == "x"
		}},
	} {
		status, body := get(tc.query)
		if status != tc.status || !tc.check(body) {
			t.Errorf("GET /controller/workers%s: %d %v", tc.query, status, body)
		}
	}
}

// TestMalformedInputOnLiveSockets: every golden vector cut short at three
// points goes to the live ROUTER and to the PULL socket. Each ROUTER
// request is answered with an ErrorMsg, each PULL frame is counted as a
// decode error, nothing applies, and a valid request is still answered
// afterwards: no panic, no stall.
func TestMalformedInputOnLiveSockets(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	var bad [][]byte
	for _, v := range wiretest.Load(t) {
		b := v.Bytes(t)
		for _, n := range []int{1, len(b) / 2, len(b) - 1} {
			bad = append(bad, b[:n])
		}
	}
	bad = append(bad, []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, []byte{0xde, 0xff, 0xff}) // huge array and map headers, no body
	for _, b := range bad {
		reply := c.askRaw(c.req, b)
		m, err := wire.Decode(reply)
		if err != nil || m.TypeName() != wire.TypeErrorMsg {
			t.Fatalf("payload %x: reply %x (%v), want an ErrorMsg", b, reply, err)
		}
		c.sendFrames(b)
	}
	got := c.settle(s)
	if got.RouterDecodeErrors != int64(len(bad)) || got.PullDecodeErrors != int64(len(bad)) || got.KVOpsApplied != 0 {
		t.Fatalf("%d bad payloads; counters %+v", len(bad), got)
	}
	peer := "tcp://127.0.0.1:20000"
	if m, err := wire.Decode(c.ask(c.req, register("A", &peer))); err != nil || m.TypeName() != wire.TypeRegisterRetMsg {
		t.Fatalf("valid request after the garbage: %v %v", m, err)
	}
}

// TestPullFramesLargerThanTheArena: frames of any size reach the decoder
// whole and in order, around and between ordinary batches (the PULL
// receive copies frames into a 1 MiB arena and grows it for a larger one),
// and a deregistration after them applies after them, whether batches are
// applied inline (one applier, GOMAXPROCS 1), by one applier goroutine or
// by several.
func TestPullFramesLargerThanTheArena(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gomaxprocs int
		appliers   int
		inline     bool
	}{{"inline", 1, 1, true}, {"one applier", 2, 1, false}, {"three appliers", 2, 3, false}} {
		t.Run(tc.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.gomaxprocs))
			s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Appliers: tc.appliers, Log: zerolog.Nop()})
			if s.inline != tc.inline {
				t.Fatalf("inline = %v, want %v", s.inline, tc.inline)
			}
			c := newClient(t, s.Ports())
			peer := "tcp://127.0.0.1:20000"
			c.ask(c.req, register("A", &peer))
			c.ask(c.req, register("B", &peer))
			enc := wire.NewBatchEncoder("A", 0, "location_0")
			keys := make([]wire.Int, 40_000) // a ~1.5 MiB batch
			for i := range keys {
				keys[i] = wire.IntOf(int64(i))
			}
			small := enc.AppendKeys(nil, wire.OpAdmit, keys[:10], 0)
			big := enc.AppendKeys(nil, wire.OpAdmit, keys, 10)
			garbage := append([]byte{0xc4}, make([]byte, 3<<20)...) // 3 MiB that do not decode
			next := enc.AppendKeys(nil, wire.OpEvict, keys[:5], 10+int64(len(keys)))
			other := wire.NewBatchEncoder("B", 0, "location_0").AppendKeys(nil, wire.OpAdmit, keys[:7], 0)
			dereg := wire.DeRegisterMsg{InstanceID: "B", WorkerID: 0, IP: "127.0.0.1", Port: 1}.AppendMsgpack(nil)
			if len(big) <= pullerArena {
				t.Fatalf("test batch of %d bytes fits the arena", len(big))
			}
			for _, f := range [][]byte{small, big, garbage, next, other, dereg} {
				c.sendFrames(f)
			}
			got := c.settle(s)
			want := int64(10 + len(keys) + 5 + 7)
			if got.PullFrames != 6 || got.PullDecodeErrors != 1 || got.KVOpsApplied != want || got.SeqDiscontinuity != 0 ||
				got.Deregistered != 1 || got.Registered != 1 || got.Keys != len(keys)-5 {
				t.Fatalf("counters %+v; want 6 frames, 1 decode error, %d KV ops applied, no gap, B deregistered, %d keys", got, want, len(keys)-5)
			}
		})
	}
}

// TestCompatCountsTheMessageOfTheFatalFrame: with CompatPullDies a
// multipart message whose first frame does not decode still counts as one
// PULL message and all its frames: LMCache counts len(parts) of a message
// on receipt, before decoding its first part.
func TestCompatCountsTheMessageOfTheFatalFrame(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, CompatPullDies: true, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	good := wire.NewBatchEncoder("A", 0, "l").AppendKeys(nil, wire.OpAdmit, []wire.Int{wire.IntOf(1)}, 0)
	c.sendFrames([]byte{0xc1}, good)
	// The loop dies at the bad first frame; both frames of the message are counted.
	got := s.WaitFrames(2, waitMax)
	if got.PullMessages != 1 || got.PullFrames != 2 || got.PullDecodeErrors != 1 || got.KVOpsApplied != 0 {
		t.Fatalf("messages %d, frames %d, decode errors %d, applied %d; want 1, 2, 1, 0", got.PullMessages, got.PullFrames, got.PullDecodeErrors, got.KVOpsApplied)
	}
}
