package refcontroller

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

func TestParseDropRate(t *testing.T) {
	for in, want := range map[string]DropRate{"0": {}, "0.1": {1, 10}, "10%": {1, 10}, "1/100": {1, 100},
		" 2.5 % ": {1, 40}, "3/9": {1, 3}, "0.999": {999, 1000}} {
		if got, err := ParseDropRate(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1", "100%", "2/1", "-0.1", "abc", "1e-2", "1/0", "0.0000000001"} {
		if _, err := ParseDropRate(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestInjectCheck(t *testing.T) {
	for _, in := range []Inject{{Stall: time.Second}, {Stall: time.Second, StallEvery: time.Second}, {Delay: -1},
		{Drop: DropRate{1, 1}}} {
		if _, err := Start(t.Context(), Config{Host: "127.0.0.1", HeartbeatPort: NoPort, HTTPPort: NoPort, Inject: in}); err == nil {
			t.Errorf("%+v started", in)
		}
	}
}

// TestInjectDropLosesExactShare: with one frame in 10 dropped, 1000 frames
// sent arrive as 900 in every count the application and /metrics keep, the
// 100 lost ones only in InjectedDrops; the drops are evenly spread (frames
// 9, 19, ... 999), which the controller's own sequence check confirms.
func TestInjectDropLosesExactShare(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: FreePort, Log: zerolog.Nop(), Inject: Inject{Drop: DropRate{1, 10}}})
	c := newClient(t, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	c.ask(c.req, register("A", &peer))
	const n = 1000
	for i := int64(0); i < n; i++ {
		c.pushMsg(batch("A", wire.OpAdmit, i, i))
	}
	waitFor(t, "1000 frames seen", func() bool { got := s.Counters(); return got.PullFrames+got.InjectedDrops == n })
	got := s.WaitFrames(n-100, 10*time.Second)
	if got.InjectedDrops != 100 || got.PullFrames != 900 || got.PullMessages != 900 || got.Admits != 900 || got.SeqDiscontinuity != 99 {
		t.Fatalf("drops %d, frames %d, messages %d, admits %d, gaps %d; want 100, 900, 900, 900, 99",
			got.InjectedDrops, got.PullFrames, got.PullMessages, got.Admits, got.SeqDiscontinuity)
	}
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", s.Ports().HTTP))
	for _, line := range []string{`lmcache:cache_controller_pull_socket_message_count{role="controller"} 900`,
		"lmfast_controller_pull_frames_total 900", "lmfast_controller_injected_drops_total 100"} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// TestInjectDelayIsSerialSchedule: 40 requests queued at once on the reply
// and heartbeat sockets together are answered one per delay: the k-th
// answer (from 1) arrives at least k delays after the first was sent.
func TestInjectDelayIsSerialSchedule(t *testing.T) {
	const d, n = 3 * time.Millisecond, 40
	s := startServer(t, Config{HeartbeatPort: FreePort, HTTPPort: NoPort, Log: zerolog.Nop(), Inject: Inject{Delay: d}})
	c := newClient(t, s.Ports())
	hb := wire.HeartbeatMsg{InstanceID: "A", IP: "127.0.0.1"}.AppendMsgpack(nil)
	t0 := time.Now()
	for i := 0; i < n/2; i++ {
		for _, sock := range []*zmq.Socket{c.req, c.hb} {
			if err := zmqx.SendRequest(sock, hb); err != nil {
				t.Fatal(err)
			}
		}
	}
	poller := zmq.NewPoller()
	poller.Add(c.req, zmq.POLLIN)
	poller.Add(c.hb, zmq.POLLIN)
	var at []time.Duration
	for deadline := time.Now().Add(10 * time.Second); len(at) < n && time.Now().Before(deadline); {
		ready, err := poller.Poll(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ready {
			if _, err := zmqx.RecvReply(p.Socket); err != nil {
				t.Fatal(err)
			}
			at = append(at, time.Since(t0))
		}
	}
	if len(at) != n || s.Counters().Replies != n {
		t.Fatalf("%d replies received, %d sent by the server; want %d", len(at), s.Counters().Replies, n)
	}
	sort.Slice(at, func(i, j int) bool { return at[i] < at[j] })
	for k, a := range at {
		if a < time.Duration(k+1)*d {
			t.Fatalf("answer %d came %v after the first request; the schedule allows it no earlier than %v", k+1, a, time.Duration(k+1)*d)
		}
	}
}

// TestInjectStallHoldsEveryLoop: under steady traffic on the PULL and
// reply sockets, each logged stall keeps its loop from reading for its
// logged span: a request sent after the reply loop last answered (the
// stall's Served, before its start) and before the stall's end is
// answered after that end, and the PULL frame count does not move inside
// a pull stall; every request is still answered and every frame counted.
func TestInjectStallHoldsEveryLoop(t *testing.T) {
	const stall, every = 60 * time.Millisecond, 250 * time.Millisecond
	s := startServer(t, Config{HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop(),
		Inject: Inject{Stall: stall, StallEvery: every}})
	c := newClient(t, s.Ports())
	hb := wire.HeartbeatMsg{InstanceID: "A", IP: "127.0.0.1"}.AppendMsgpack(nil)
	frame := batch("Z", wire.OpAdmit, 0, 1).AppendMsgpack(nil) // unregistered: counted, then dropped
	type sample struct {
		from, to time.Time
		frames   int64
	}
	var sent, answered []time.Time
	var samples []sample
	var pushed []time.Time
	recvReplies := func() {
		for {
			if _, err := c.req.RecvMessageBytes(zmq.DONTWAIT); err != nil {
				return
			}
			answered = append(answered, time.Now())
		}
	}
	for end := time.Now().Add(4*every + every/2); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		sent = append(sent, time.Now())
		if err := zmqx.SendRequest(c.req, hb); err != nil {
			t.Fatal(err)
		}
		pushed = append(pushed, time.Now())
		if _, err := c.push.SendBytes(frame, 0); err != nil {
			t.Fatal(err)
		}
		from := time.Now()
		n := s.Counters().PullFrames
		samples = append(samples, sample{from, time.Now(), n})
		recvReplies()
	}
	for deadline := time.Now().Add(10 * time.Second); len(answered) < len(sent) && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		recvReplies()
	}
	if len(answered) != len(sent) {
		t.Fatalf("%d of %d requests answered", len(answered), len(sent))
	}
	waitFor(t, "every frame counted", func() bool { return s.Counters().PullFrames == int64(len(pushed)) })

	var heldRequests, heldPairs int
	byLoop := map[string]int{}
	for _, st := range s.Stalls() {
		byLoop[st.Socket]++
		if st.Index < 1 || st.Start.Before(st.Nominal) || !st.Start.Before(st.Nominal.Add(stall)) || st.End.Before(st.Nominal.Add(stall)) {
			t.Errorf("stall %+v outside its window", st)
		}
		switch st.Socket {
		case "reply":
			if st.Served.IsZero() || st.Served.After(st.Start) {
				t.Errorf("reply stall %d: last served %v, not before its start %v", st.Index, st.Served, st.Start)
			}
			for i, ts := range sent {
				if ts.After(st.Served) && ts.Before(st.End) {
					heldRequests++
					if answered[i].Before(st.End) {
						t.Errorf("request sent %v into stall %d answered %v before its end", ts.Sub(st.Start), st.Index, st.End.Sub(answered[i]))
					}
				}
			}
		case "pull":
			var in []sample
			for _, sm := range samples {
				if sm.from.After(st.Start) && sm.to.Before(st.End) {
					in = append(in, sm)
				}
			}
			for i := 1; i < len(in); i++ {
				if in[i].frames != in[0].frames {
					t.Errorf("pull stall %d: frame count moved from %d to %d inside it", st.Index, in[0].frames, in[i].frames)
				}
				for _, p := range pushed {
					if p.After(in[i-1].to) && p.Before(in[i].from) {
						heldPairs++ // a frame sent between two samples that saw it uncounted
					}
				}
			}
		}
	}
	if byLoop["reply"] == 0 || byLoop["pull"] == 0 || heldRequests == 0 || heldPairs == 0 {
		t.Fatalf("nothing checked: stalls %v, requests sent inside reply stalls %d, frames sent inside pull stalls %d", byLoop, heldRequests, heldPairs)
	}
	t.Logf("stalls %v; %d requests sent inside reply stalls; %d frames sent between samples inside pull stalls", byLoop, heldRequests, heldPairs)
}

// TestOnStallNeverHoldsALoop: an OnStall that blocks (a stdout nobody
// reads) does not hold the loops: frames sent after a stall are counted
// while it blocks, and once it returns every stall reaches it, in order,
// before Close returns.
func TestOnStallNeverHoldsALoop(t *testing.T) {
	release := make(chan struct{})
	var got []Stall
	s, err := Start(t.Context(), Config{Host: "127.0.0.1", HeartbeatPort: NoPort, HTTPPort: NoPort, Log: zerolog.Nop(),
		Inject: Inject{Stall: 20 * time.Millisecond, StallEvery: 100 * time.Millisecond, OnStall: func(st Stall) {
			<-release
			got = append(got, st)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s.Ports())
	frame := batch("Z", wire.OpAdmit, 0, 1).AppendMsgpack(nil)
	sent := int64(0)
	for end := time.Now().Add(450 * time.Millisecond); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if _, err := c.push.SendBytes(frame, 0); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	waitFor(t, "every frame counted while OnStall blocks", func() bool { return s.Counters().PullFrames == sent })
	if len(s.Stalls()) < 2 {
		t.Fatalf("stalls %v: want the loop to have stalled more than once while OnStall blocked", s.Stalls())
	}
	close(release)
	s.Close()
	if want := s.Stalls(); len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("OnStall got %d stalls, server logged %d", len(got), len(want))
	}
}
