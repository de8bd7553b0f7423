package engine

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmfast/lmfast/wire"
)

// TestCheckReply: the expected reply of each request op passes; an
// ErrorMsg quotes the controller's error; a well-formed reply of another
// type is named; a reply that is not one message (truncated, trailing
// bytes, not a map) is undecodable.
func TestCheckReply(t *testing.T) {
	lookup := wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil)
	heartbeat := wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{wire.FullSyncCommand("controller_restart")}}.AppendMsgpack(nil)
	register := wire.RegisterRetMsg{ExtraConfig: []wire.StrPair{}}.AppendMsgpack(nil)
	for _, tc := range []struct {
		op    Op
		reply []byte
		want  string
	}{
		{OpP2PLookup, lookup, ""},
		{OpHeartbeat, heartbeat, ""},
		{OpRegister, register, ""},
		{OpP2PLookup, wire.ErrorMsg{Error: "boom"}.AppendMsgpack(nil), "controller error: boom"},
		{OpHeartbeat, wire.ErrorMsg{Error: "Expected HeartbeatMsg"}.AppendMsgpack(nil), "controller error: Expected HeartbeatMsg"},
		{OpP2PLookup, heartbeat, "unexpected reply HeartbeatRetMsg to p2p_lookup"},
		{OpHeartbeat, lookup, "unexpected reply BatchedP2PLookupRetMsg to heartbeat"},
		{OpRegister, heartbeat, "unexpected reply HeartbeatRetMsg to register"},
		{OpP2PLookup, lookup[:len(lookup)-1], "undecodable reply: Input data was truncated"},
		{OpP2PLookup, append(append([]byte{}, lookup...), 0xc0), "undecodable reply: MessagePack data is malformed: trailing characters (byte " + strconv.Itoa(len(lookup)) + ")"},
		{OpP2PLookup, []byte{0x91, 0xc0}, "undecodable reply: Expected `object`, got `array`"},
		{OpP2PLookup, nil, "undecodable reply: Input data was truncated"},
	} {
		if got := checkReply(tc.op, tc.reply); got != tc.want {
			t.Errorf("%s reply %x: %q, want %q", tc.op, tc.reply, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { checkReply(OpP2PLookup, lookup) }); n != 0 {
		t.Errorf("checking an expected reply allocates %v times", n)
	}
}

// TestBadRepliesAreErrors: a controller that answers lookups in turn with
// the right reply, an ErrorMsg, a reply of another type and a truncated
// frame has each bad answer counted as an error under its text, and only
// the right ones as requests.
func TestBadRepliesAreErrors(t *testing.T) {
	replies := [][]byte{
		wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil),
		wire.ErrorMsg{Error: "no such instance"}.AppendMsgpack(nil),
		wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{}}.AppendMsgpack(nil),
		wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil)[:5],
	}
	var sent [4]atomic.Int64
	var n atomic.Int64
	ep := router(t, func([]byte) []byte {
		i := (n.Add(1) - 1) % 4
		sent[i].Add(1)
		return replies[i]
	})
	ops, _ := ParseOperations("p2p_lookup:100")
	cfg := Config{PullEndpoint: "tcp://127.0.0.1:1", ReplyEndpoint: ep, Duration: 300 * time.Millisecond, BatchSize: 1, Mix: ops,
		NumInstances: 2, NumWorkers: 1, NumLocations: 1, NumKeys: 100, NumHashes: 3, Senders: 1, Concurrency: 2,
		Seed: 3, Interval: time.Hour, DrainTimeout: time.Second}
	res, err := Run(context.Background(), cfg, Discard, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	o := res.Ops[0]
	want := map[string]int64{
		"controller error: no such instance":             sent[1].Load(),
		"unexpected reply HeartbeatRetMsg to p2p_lookup": sent[2].Load(),
		"undecodable reply: Input data was truncated":    sent[3].Load(),
	}
	if o.Requests != sent[0].Load() || o.Errors != sent[1].Load()+sent[2].Load()+sent[3].Load() || sent[3].Load() == 0 {
		t.Fatalf("requests %d, errors %d; the controller sent %d right replies and %d, %d, %d bad ones",
			o.Requests, o.Errors, sent[0].Load(), sent[1].Load(), sent[2].Load(), sent[3].Load())
	}
	for msg, count := range want {
		if o.ErrorCounts[msg] != count {
			t.Errorf("%q counted %d times, want %d (%v)", msg, o.ErrorCounts[msg], count, o.ErrorCounts)
		}
	}
}

// BenchmarkCheckReply is the reply check of every round trip: the type
// tag of an expected p2p lookup reply.
func BenchmarkCheckReply(b *testing.B) {
	reply := wire.BatchedP2PLookupRetMsg{LayoutInfo: []wire.LayoutInfo{{}}}.AppendMsgpack(nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if msg := checkReply(OpP2PLookup, reply); msg != "" {
			b.Fatal(msg)
		}
	}
}
