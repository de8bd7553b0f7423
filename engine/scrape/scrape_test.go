package scrape_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/engine/scrape"
	"github.com/lmfast/lmfast/refcontroller"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// controller starts the reference controller on 127.0.0.1 with /metrics on
// httpPort (refcontroller.FreePort for any).
func controller(t *testing.T, httpPort int, inject refcontroller.Inject) *refcontroller.Server {
	t.Helper()
	s, err := refcontroller.Start(context.Background(), refcontroller.Config{Host: "127.0.0.1", HeartbeatPort: refcontroller.FreePort,
		HTTPPort: httpPort, Log: zerolog.Nop(), Inject: inject})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func metricsURL(s *refcontroller.Server) string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.Ports().HTTP)
}

// worker is a PUSH and a DEALER to the controller, as lmfast's senders.
type worker struct {
	t          *testing.T
	push, req  *zmq.Socket
	hb         *zmq.Socket
	frame, ask []byte
}

func newWorker(t *testing.T, p refcontroller.Ports) *worker {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{t: t,
		frame: (&wire.BatchedKVOperationMsg{InstanceID: "i", Location: "l", Operations: []wire.KVOpEvent{{OpType: wire.OpAdmit, Key: wire.IntOf(1)}}}).AppendMsgpack(nil),
		ask:   wire.HeartbeatMsg{InstanceID: "i", IP: "127.0.0.1"}.AppendMsgpack(nil)}
	if w.push, err = zmqx.NewPush(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Pull)); err != nil {
		t.Fatal(err)
	}
	if w.req, err = zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Reply)); err != nil {
		t.Fatal(err)
	}
	if w.hb, err = zmqx.NewDealer(ctx, fmt.Sprintf("tcp://127.0.0.1:%d", p.Heartbeat)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []*zmq.Socket{w.push, w.req, w.hb} {
			s.SetLinger(0)
			s.Close()
		}
		ctx.Term()
	})
	return w
}

func (w *worker) pushFrames(n int) {
	w.t.Helper()
	for i := 0; i < n; i++ {
		if _, err := w.push.SendBytes(w.frame, 0); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *worker) request(sock *zmq.Socket, n int) {
	w.t.Helper()
	for i := 0; i < n; i++ {
		if err := zmqx.SendRequest(sock, w.ask); err != nil {
			w.t.Fatal(err)
		}
		if _, err := zmqx.RecvReply(sock); err != nil {
			w.t.Fatal(err)
		}
	}
}

// TestDeltaIsWhatWasSent: frames and requests sent before the baseline are
// not in the delta; the N frames and M requests sent after are, exactly,
// and stay so once the controller is idle.
func TestDeltaIsWhatWasSent(t *testing.T) {
	s := controller(t, refcontroller.FreePort, refcontroller.Inject{})
	w := newWorker(t, s.Ports())
	sc, err := scrape.New(metricsURL(s), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.pushFrames(37)
	w.request(w.req, 5)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if smp, err := sc.Read(ctx); err == nil && smp.PullFrames == 37 && smp.ReplyMessages == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the traffic before the baseline was never counted")
		}
	}
	if _, err := sc.Baseline(ctx); err != nil {
		t.Fatal(err)
	}
	const n, m = 2000, 30
	w.pushFrames(n)
	w.request(w.req, m/2)
	w.request(w.hb, m/2) // the heartbeat socket counts on the same gauge
	d, ok, err := sc.WaitPull(ctx, n, 10*time.Second, 5*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("delta %+v, reached %v: %v", d, ok, err)
	}
	s.WaitFrames(n, 10*time.Second)
	d, err = sc.Delta(ctx)
	if err != nil || d.PullFrames != n || d.ReplyMessages != m || d.Restarts != 0 || d.Elapsed <= 0 {
		t.Fatalf("delta %+v (%v); want %d frames, %d messages", d, err, n, m)
	}
	if r := scrape.Reconcile(n, d); !r.Reconciled || r.Missing != 0 || !strings.HasPrefix(r.String(), "reconciled") {
		t.Fatalf("%+v", r)
	}
}

// TestLostFramesAreNotReconciled: a controller that loses one frame in 10
// (--inject-drop) counts 900 of 1000; the reconciliation says 100 missing.
func TestLostFramesAreNotReconciled(t *testing.T) {
	s := controller(t, refcontroller.FreePort, refcontroller.Inject{Drop: refcontroller.DropRate{Num: 1, Den: 10}})
	w := newWorker(t, s.Ports())
	sc, _ := scrape.New(metricsURL(s), 2*time.Second)
	ctx := context.Background()
	if _, err := sc.Baseline(ctx); err != nil {
		t.Fatal(err)
	}
	w.pushFrames(1000)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if c := s.Counters(); c.PullFrames+c.InjectedDrops == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("frames never arrived")
		}
	}
	d, err := sc.Delta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := scrape.Reconcile(1000, d)
	if r.Reconciled || r.Restarted || r.Received != 900 || r.Missing != 100 || !strings.Contains(r.String(), "100 missing") {
		t.Fatalf("%+v: %s", r, r)
	}
}

// TestRestartIsReportedAsSuch: a controller restarted on the same port
// counts from zero again; the scraper reports a restart and carries what
// was counted before it, and the reconciliation says restarted, not
// missing.
func TestRestartIsReportedAsSuch(t *testing.T) {
	first := controller(t, refcontroller.FreePort, refcontroller.Inject{})
	port := first.Ports().HTTP
	sc, _ := scrape.New(metricsURL(first), 2*time.Second)
	ctx := context.Background()
	if _, err := sc.Baseline(ctx); err != nil {
		t.Fatal(err)
	}
	newWorker(t, first.Ports()).pushFrames(100)
	if d, ok, err := sc.WaitPull(ctx, 100, 10*time.Second, 5*time.Millisecond); !ok || err != nil || d.Restarts != 0 {
		t.Fatalf("%+v %v %v", d, ok, err)
	}
	first.Close()
	second := controller(t, port, refcontroller.Inject{})
	newWorker(t, second.Ports()).pushFrames(10)
	for deadline := time.Now().Add(10 * time.Second); second.Counters().PullFrames != 10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("frames never arrived")
		}
	}
	d, err := sc.Delta(ctx)
	if err != nil || d.Restarts != 1 || d.PullFrames != 110 {
		t.Fatalf("delta %+v (%v); want 1 restart, 110 frames counted across it", d, err)
	}
	if r := scrape.Reconcile(110, d); r.Reconciled || !r.Restarted || !strings.Contains(r.String(), "restarted") {
		t.Fatalf("%+v", r)
	}
}

// TestReadsLMCacheExposition: the page LMCache's controller serves
// (prometheus_client's text format: HELP, TYPE gauge, role label, float
// values) reads as counts; a page without the gauges, an error status and
// a closed port are errors naming what went wrong.
func TestReadsLMCacheExposition(t *testing.T) {
	page := `# HELP lmcache:cache_controller_pull_socket_message_count The total number of messages received on PULL socket
# TYPE lmcache:cache_controller_pull_socket_message_count gauge
lmcache:cache_controller_pull_socket_message_count{role="controller"} 24335.0
# HELP lmcache:cache_controller_reply_socket_message_count The total number of messages received on REPLY socket
# TYPE lmcache:cache_controller_reply_socket_message_count gauge
lmcache:cache_controller_reply_socket_message_count{role="controller"} 512.0
`
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	sc, _ := scrape.New(srv.URL+"/metrics", 2*time.Second)
	ctx := context.Background()
	smp, err := sc.Read(ctx)
	if err != nil || smp.PullFrames != 24335 || smp.ReplyMessages != 512 {
		t.Fatalf("%+v %v", smp, err)
	}
	page = strings.ReplaceAll(page, "reply_socket", "other_socket")
	if _, err := sc.Read(ctx); err == nil || !strings.Contains(err.Error(), "no "+scrape.ReplyMessagesMetric) {
		t.Fatalf("page without the reply gauge: %v", err)
	}
	status = http.StatusInternalServerError
	if _, err := sc.Read(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("status 500: %v", err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	sc, _ = scrape.New("http://"+closed+"/metrics", time.Second)
	if _, err := sc.Read(ctx); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("closed port: %v", err)
	}
	for _, bad := range []string{"", "127.0.0.1:9000/metrics", "ftp://127.0.0.1/metrics", "http:///metrics"} {
		if _, err := scrape.New(bad, time.Second); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func ExampleReconcile() {
	// 24 325 frames sent during the run and 10 DeRegisterMsg at teardown,
	// against what the controller's gauge moved by.
	fmt.Println(scrape.Reconcile(24325+10, scrape.Delta{PullFrames: 24335}))
	fmt.Println(scrape.Reconcile(24335, scrape.Delta{PullFrames: 24100}))
	fmt.Println(scrape.Reconcile(24335, scrape.Delta{PullFrames: 9000, Restarts: 1}))
	// Output:
	// reconciled: sent 24335 frames, the controller received 24335
	// not reconciled: sent 24335 frames, the controller received 24100 (235 missing)
	// the controller restarted during the run: sent 24335 frames, it counted 9000 across the restart (not comparable)
}
