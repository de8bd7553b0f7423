package engine

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/stats"
)

func TestParseOperations(t *testing.T) {
	tests := []struct {
		in      string
		want    string // PythonDictRepr of the result
		wantErr string
	}{
		{in: "admit:70,evict:25,heartbeat:5", want: "{'admit': 70.0, 'evict': 25.0, 'heartbeat': 5.0}"},
		{in: " admit : 35 , evict:29,heartbeat:1,p2p_lookup:35", want: "{'admit': 35.0, 'evict': 29.0, 'heartbeat': 1.0, 'p2p_lookup': 35.0}"},
		{in: "admit:33.3,evict:33.3,register:33.4", want: "{'admit': 33.3, 'evict': 33.3, 'register': 33.4}"},
		{in: "admit:100,", want: "{'admit': 100.0}"},
		{in: "admit:70,evict:25", wantErr: "must sum to 100, got 95"},
		{in: "admit:70,bogus:30", wantErr: `unknown operation "bogus"`},
		{in: "admit", wantErr: "not name:percent"},
		{in: "admit:x", wantErr: "bad percentage"},
		{in: "admit:-5,evict:105", wantErr: "bad percentage"},
		{in: "admit:50,admit:50", wantErr: "given twice"},
		{in: "", wantErr: "no operations"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseOperations(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || PythonDictRepr(got) != tc.want {
				t.Fatalf("got %s, %v; want %s", PythonDictRepr(got), err, tc.want)
			}
		})
	}
}

func TestBuildScheduleTruncatesLikeLMCache(t *testing.T) {
	mix, _ := ParseOperations("admit:33.3,evict:33.3,p2p_lookup:33.4")
	s := BuildSchedule(mix, rand.New(rand.NewPCG(1, 2)))
	count := map[Op]int{}
	for _, op := range s {
		count[op]++
	}
	// int(1000*33.3/100) = 333 (33.3 is 33.29999... in binary), 334 for 33.4.
	if count[OpAdmit] != 333 || count[OpEvict] != 333 || count[OpP2PLookup] != 334 || len(s) != 1000 {
		t.Fatalf("schedule counts %v (len %d)", count, len(s))
	}
	again := BuildSchedule(mix, rand.New(rand.NewPCG(1, 2)))
	for i := range s {
		if s[i] != again[i] {
			t.Fatal("same seed gave a different schedule")
		}
	}
}

func TestNormalizeHeartbeatURL(t *testing.T) {
	tests := []struct{ raw, pull, want string }{
		{"127.0.0.1:7557", "tcp://127.0.0.1:7555", "tcp://127.0.0.1:7557"},
		{"tcp://10.1.2.3:7557", "tcp://127.0.0.1:7555", "tcp://127.0.0.1:7557"},
		{"10.1.2.3:7557", "tcp://localhost:7555", "tcp://127.0.0.1:7557"},
		{"10.1.2.3:7557", "tcp://10.1.2.3:7555", "tcp://10.1.2.3:7557"},
	}
	for _, tc := range tests {
		if got := NormalizeHeartbeatURL(tc.raw, tc.pull); got != tc.want {
			t.Errorf("NormalizeHeartbeatURL(%q, %q) = %q, want %q", tc.raw, tc.pull, got, tc.want)
		}
	}
}

func TestWorkerAddressesAreLoopback(t *testing.T) {
	for _, w := range []int{0, 1, 253, 254, 255, 70000} {
		ip := WorkerIP(w)
		if !strings.HasPrefix(ip, "127.") {
			t.Fatalf("WorkerIP(%d) = %s", w, ip)
		}
	}
	if WorkerIP(0) != "127.0.0.1" || PeerInitURL(0) != "tcp://127.0.0.1:20000" || WorkerPort(3) != 10003 {
		t.Fatal("worker 0 address differs from the golden RegisterMsg")
	}
	if WorkerIP(70000) != "127.1.17.113" || PeerInitURL(99999) != "tcp://127.1.134.160:28927" || WorkerPort(99999) != 54463 {
		t.Fatalf("worker 70000: %s, worker 99999: %s port %d", WorkerIP(70000), PeerInitURL(99999), WorkerPort(99999))
	}
	p := newProducer(&Config{Mix: []OpShare{{OpHeartbeat, 100}}, BatchSize: 1, NumKeys: 1, NumLocations: 1}, nil, 1)
	for _, ip := range append(p.ips, p.peers...) {
		if !strings.HasPrefix(strings.TrimPrefix(ip, "tcp://"), "127.0.") {
			t.Fatalf("random address %s is not loopback", ip)
		}
	}
}

// TestProducerAllocatesNothing: encoding admit/evict/deregister batches into
// a reused ring slot allocates nothing in steady state.
func TestProducerAllocatesNothing(t *testing.T) {
	for _, mix := range []string{"admit:100", "evict:100", "deregister:100", "p2p_lookup:100", "heartbeat:100"} {
		ops, _ := ParseOperations(mix)
		cfg := &Config{Mix: ops, BatchSize: 50, NumKeys: 1 << 40, NumLocations: 2, NumHashes: 100, NumInstances: 4, NumWorkers: 1}
		p := newProducer(cfg, newPairs(cfg, newInstances(cfg), [][2]int{{0, 0}, {1, 0}}), 7)
		var it item
		p.fill(&it) // grow the slot's buffer once
		if allocs := testing.AllocsPerRun(500, func() { p.fill(&it) }); allocs != 0 {
			t.Errorf("%s: %.1f allocations per message", mix, allocs)
		}
	}
}

func TestWriteReportLayout(t *testing.T) {
	svc := stats.NewHistogram()
	for _, v := range []int64{7000, 16000, 31000, 249000} {
		_ = svc.RecordValue(v)
	}
	mix, _ := ParseOperations("admit:70,evict:25,heartbeat:5")
	r := &Result{
		Config:  ReportConfig{PullURL: "127.0.0.1:7555", Duration: 60 * time.Second, BatchSize: 100, Mix: mix, NumInstances: 50, NumWorkers: 1, NumLocations: 1, NumKeys: 1000000, NumProcesses: 1},
		Elapsed: 60 * time.Second,
		Ops: []OpResult{
			{Op: OpAdmit, Requests: 4, Messages: 400, Service: svc},
			{Op: OpEvict, Service: stats.NewHistogram()},
			{Op: OpHeartbeat, Errors: 3, Service: stats.NewHistogram()},
		},
		MemSamples: []float64{62.0, 63.5},
		Errors: []ErrorCount{
			{Op: OpHeartbeat, Text: "Request timeout - controller may not be running at 127.0.0.1:7557", Count: 2},
			{Op: OpHeartbeat, Text: "unexpected reply ErrorMsg", Count: 1},
			{Op: OpRegister, Text: "Request timeout - controller may not be running at 127.0.0.1:7556", Count: 1},
		},
	}
	var b bytes.Buffer
	if err := WriteReport(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `
================================================================================
LMCache Controller ZMQ Benchmark Results
================================================================================

Configuration:
  Controller URL: 127.0.0.1:7555
  Duration: 60 seconds
  Batch Size: 100
  Operations: {'admit': 70.0, 'evict': 25.0, 'heartbeat': 5.0}
  Instances: 50, Workers: 1, Locations: 1, Keys: 1000000

Overall Performance:
  Total Requests: 4
  Total Messages: 400
  Total Time: 60.00s
  Overall RPS (Requests/sec): 0.07
  Overall QPS (Messages/sec): 6.67

Per-Operation Performance:
  admit:
    RPS (Requests/sec): 0.07
    QPS (Messages/sec): 6.67
    Latency - Avg: 0.076ms, Min: 0.007ms, Max: 0.249ms, P95: 0.249ms
    Errors: 0
  evict:
    RPS (Requests/sec): 0.00
    QPS (Messages/sec): 0.00
    Latency - Avg: 0.000ms, Min: 0.000ms, Max: 0.000ms, P95: 0.000ms
    Errors: 0
  heartbeat:
    RPS (Requests/sec): 0.00
    QPS (Messages/sec): 0.00
    Latency - Avg: 0.000ms, Min: 0.000ms, Max: 0.000ms, P95: 0.000ms
    Errors: 3

Error Messages:
  2 x heartbeat: Request timeout - controller may not be running at 127.0.0.1:7557
  1 x heartbeat: unexpected reply ErrorMsg
  1 x register: Request timeout - controller may not be running at 127.0.0.1:7556

System Metrics:
  Memory Usage - Avg: 62.8%, Max: 63.5%
================================================================================
`
	if b.String() != want {
		t.Fatalf("report differs:\n%s\nwant:\n%s", b.String(), want)
	}

	// A fractional --duration is shown as given, a whole one as LMCache
	// shows it.
	for d, line := range map[time.Duration]string{500 * time.Millisecond: "  Duration: 0.5 seconds\n",
		90 * time.Second: "  Duration: 90 seconds\n", 1250 * time.Millisecond: "  Duration: 1.25 seconds\n"} {
		r.Config.Duration = d
		b.Reset()
		_ = WriteReport(&b, r)
		if !strings.Contains(b.String(), line) {
			t.Errorf("--duration %v: report lacks %q", d, line)
		}
	}
}

// TestSeedMakesTheStreamReproducible: the same seed yields byte-identical
// operation streams; another seed does not.
func TestSeedMakesTheStreamReproducible(t *testing.T) {
	ops, _ := ParseOperations("admit:35,evict:29,heartbeat:1,p2p_lookup:35")
	cfg := &Config{Mix: ops, BatchSize: 10, NumKeys: 1000, NumLocations: 2, NumHashes: 5, NumInstances: 3, NumWorkers: 1}
	stream := func(seed uint64) []byte {
		p := newProducer(cfg, newPairs(cfg, newInstances(cfg), [][2]int{{0, 0}, {1, 0}, {2, 0}}), seed)
		var all []byte
		var it item
		for i := 0; i < 300; i++ {
			p.fill(&it)
			all = append(append(all, byte(it.op)), it.payload...)
		}
		return all
	}
	a, b, c := stream(99), stream(99), stream(100)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different streams")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same stream")
	}
}
