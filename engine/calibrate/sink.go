package calibrate

/*
#cgo pkg-config: libzmq
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

// lmf_counts is what a sink loop has received so far. The loop is its
// only writer; readers take consistent snapshots with lmf_snapshot (a
// seqlock: seq is odd while the writer updates the fields).
typedef struct {
	long long frames;   // frames received (each part of a multipart counts)
	long long bytes;    // their payload bytes
	long long first_ns; // CLOCK_MONOTONIC of the first frame, 0 before it
	long long last_ns;  // CLOCK_MONOTONIC of the latest frame
	unsigned long long seq;
	int stop;           // set by Go to end the loop
} lmf_counts;

static long long lmf_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void lmf_stop(lmf_counts *c) { __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE); }
static int lmf_stopped(lmf_counts *c) { return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE); }

static void lmf_count(lmf_counts *c, long long size) {
	long long now = lmf_now();
	unsigned long long seq = c->seq;
	__atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (c->first_ns == 0) __atomic_store_n(&c->first_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(&c->last_ns, now, __ATOMIC_RELAXED);
	__atomic_store_n(&c->bytes, c->bytes + size, __ATOMIC_RELAXED);
	__atomic_store_n(&c->frames, c->frames + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seq, seq + 2, __ATOMIC_RELEASE);
}

// lmf_snapshot returns c's fields as of one moment between two frames. It
// returns them by value, so the Go caller passes no Go pointer and its
// copy stays on its stack: reading the counts allocates nothing.
static lmf_counts lmf_snapshot(lmf_counts *c) {
	lmf_counts out = {0};
	for (;;) {
		unsigned long long s1 = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1) continue;
		out.frames = __atomic_load_n(&c->frames, __ATOMIC_RELAXED);
		out.bytes = __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
		out.first_ns = __atomic_load_n(&c->first_ns, __ATOMIC_RELAXED);
		out.last_ns = __atomic_load_n(&c->last_ns, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == s1) return out;
	}
}

// lmf_open binds a socket of type typ to endpoint (RCVTIMEO 50 ms so an
// idle loop sees stop; libzmq's default HWMs, as LMCache's controller has)
// and writes the bound endpoint into out.
static void *lmf_open(void *ctx, int typ, const char *endpoint, char *out, size_t outlen) {
	void *s = zmq_socket(ctx, typ);
	if (s == NULL) return NULL;
	int timeout = 50, linger = 0;
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(s, endpoint) != 0) {
		int e = errno;
		zmq_close(s);
		errno = e;
		return NULL;
	}
	zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &outlen);
	return s;
}

// lmf_recv receives one frame into m: 1 on a frame, 0 on a receive timeout
// or an interrupted call, -1 when the loop must end (stop was set, checked
// before every frame so a steady stream cannot keep the loop alive, or the
// socket failed).
static int lmf_recv(void *s, zmq_msg_t *m, lmf_counts *c) {
	if (lmf_stopped(c)) return -1;
	if (zmq_msg_recv(m, s, 0) >= 0) return 1;
	return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

// lmf_pull_loop counts every frame a PULL socket receives, copying nothing,
// until stop is set.
static void lmf_pull_loop(void *s, lmf_counts *c) {
	zmq_msg_t m;
	zmq_msg_init(&m);
	for (int r; (r = lmf_recv(s, &m, c)) >= 0;) {
		if (r > 0) lmf_count(c, (long long)zmq_msg_size(&m));
	}
	zmq_msg_close(&m);
}

// lmf_router_loop answers every request [identity, "", payload, ...] with
// [identity, "", reply], counting each request before its reply leaves (so
// a client that has its reply always finds it counted), until stop is set.
static void lmf_router_loop(void *s, lmf_counts *c, const void *reply, size_t reply_len) {
	zmq_msg_t id, part;
	zmq_msg_init(&id);
	zmq_msg_init(&part);
	for (int r; (r = lmf_recv(s, &id, c)) >= 0;) {
		if (r == 0) continue;
		long long size = 0;
		int more = zmq_msg_more(&id);
		while (more && zmq_msg_recv(&part, s, 0) >= 0) {
			size += (long long)zmq_msg_size(&part);
			more = zmq_msg_more(&part);
		}
		lmf_count(c, size);
		zmq_send(s, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
		zmq_send(s, "", 0, ZMQ_SNDMORE);
		zmq_send(s, reply, reply_len, 0);
	}
	zmq_msg_close(&id);
	zmq_msg_close(&part);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Sink is a counting ZMQ endpoint in the manner of libzmq's local_thr: a
// PULL socket that counts frames and bytes, and a ROUTER socket that
// answers every request with one fixed reply. Its receive loops run in C
// and copy nothing, so that the sink, not the sender under test, is never
// the limit (a pebbe/zmq4 PULL loop, which copies each frame into a Go
// slice, tops out near 0.78x of what one PUSH sender can do on a 2-vCPU
// machine). Counts are what arrived, not what was sent, and every read is
// a consistent snapshot taken between two frames.
type Sink struct {
	ctx        unsafe.Pointer
	pull, rout unsafe.Pointer
	pullEP     string
	routerEP   string
	counts     *C.lmf_counts // [0] pull, [1] router; C memory, read by snapshot
	reply      unsafe.Pointer
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closed     atomic.Bool
	final      [2]Counts // the counts at Close, served after it
}

// StartSink binds a PULL and a ROUTER socket on a fresh libzmq context at
// the given endpoints (e.g. "tcp://127.0.0.1:*" or "ipc:///tmp/x.ipc"; a
// "*" port picks a free one) and starts counting. reply is the bytes the
// ROUTER answers with; an empty routerEndpoint opens no ROUTER.
func StartSink(pullEndpoint, routerEndpoint string, reply []byte) (*Sink, error) {
	ctx, errno := C.zmq_ctx_new() // cgo reads errno right after the call, on its thread
	if ctx == nil {
		return nil, fmt.Errorf("zmq context: %w", errno)
	}
	s := &Sink{ctx: ctx}
	s.counts = (*C.lmf_counts)(C.calloc(2, C.size_t(unsafe.Sizeof(C.lmf_counts{}))))
	var err error
	if s.pull, s.pullEP, err = s.open(C.ZMQ_PULL, pullEndpoint); err != nil {
		s.free()
		return nil, fmt.Errorf("sink PULL %s: %w", pullEndpoint, err)
	}
	if routerEndpoint != "" {
		if s.rout, s.routerEP, err = s.open(C.ZMQ_ROUTER, routerEndpoint); err != nil {
			s.free()
			return nil, fmt.Errorf("sink ROUTER %s: %w", routerEndpoint, err)
		}
		if len(reply) > 0 {
			s.reply = C.CBytes(reply)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		runtime.LockOSThread()
		C.lmf_pull_loop(s.pull, s.slot(0))
	}()
	if s.rout != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			runtime.LockOSThread()
			C.lmf_router_loop(s.rout, s.slot(1), s.reply, C.size_t(len(reply)))
		}()
	}
	return s, nil
}

func (s *Sink) open(typ C.int, endpoint string) (unsafe.Pointer, string, error) {
	cep := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cep))
	var out [256]C.char
	sock, errno := C.lmf_open(s.ctx, typ, cep, &out[0], C.size_t(len(out)))
	if sock == nil {
		return nil, "", errno // a syscall.Errno; read on the thread that failed
	}
	return sock, C.GoString(&out[0]), nil
}

func (s *Sink) slot(i int) *C.lmf_counts {
	return (*C.lmf_counts)(unsafe.Add(unsafe.Pointer(s.counts), uintptr(i)*unsafe.Sizeof(C.lmf_counts{})))
}

// PullEndpoint is the PULL socket's bound endpoint, ready to connect to.
func (s *Sink) PullEndpoint() string { return s.pullEP }

// RouterEndpoint is the ROUTER socket's bound endpoint ("" when none).
func (s *Sink) RouterEndpoint() string { return s.routerEP }

// Counts is what one of the sink's sockets received.
type Counts struct {
	Frames int64         // frames (PULL) or requests (ROUTER)
	Bytes  int64         // their payload bytes
	Span   time.Duration // from the first frame to the latest
}

// Rate is frames per second over the span between the first and the latest
// frame (0 with fewer than two frames).
func (c Counts) Rate() float64 {
	if c.Frames < 2 || c.Span <= 0 {
		return 0
	}
	return float64(c.Frames-1) / c.Span.Seconds()
}

func (s *Sink) read(i int) Counts {
	if s.closed.Load() {
		return s.final[i]
	}
	return s.snapshot(i)
}

func (s *Sink) snapshot(i int) Counts {
	c := C.lmf_snapshot(s.slot(i))
	out := Counts{Frames: int64(c.frames), Bytes: int64(c.bytes)}
	if c.first_ns != 0 {
		out.Span = time.Duration(c.last_ns - c.first_ns)
	}
	return out
}

// Pull returns what the PULL socket received so far.
func (s *Sink) Pull() Counts { return s.read(0) }

// Router returns the requests the ROUTER socket answered so far.
func (s *Sink) Router() Counts { return s.read(1) }

// WaitPull waits until the PULL socket received at least n frames, or until
// it received nothing new for quiet; it returns the counts then.
func (s *Sink) WaitPull(n int64, quiet time.Duration) Counts {
	last, since := s.Pull().Frames, time.Now()
	for {
		c := s.Pull()
		if c.Frames >= n {
			return c
		}
		if c.Frames != last {
			last, since = c.Frames, time.Now()
		} else if time.Since(since) >= quiet {
			return c
		}
		time.Sleep(time.Millisecond)
	}
}

// Close stops the loops (within one receive timeout, 50 ms, even while
// frames keep arriving), closes the sockets and the context. Counts read
// after Close are those at Close.
func (s *Sink) Close() {
	s.closeOnce.Do(func() {
		C.lmf_stop(s.slot(0))
		C.lmf_stop(s.slot(1))
		s.wg.Wait()
		s.final = [2]Counts{s.snapshot(0), s.snapshot(1)}
		s.closed.Store(true)
		s.free()
	})
}

func (s *Sink) free() {
	for _, sock := range []unsafe.Pointer{s.pull, s.rout} {
		if sock != nil {
			C.zmq_close(sock)
		}
	}
	C.zmq_ctx_term(s.ctx)
	C.free(unsafe.Pointer(s.counts))
	if s.reply != nil {
		C.free(s.reply)
	}
}
