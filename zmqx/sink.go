package zmqx

// #cgo pkg-config: libzmq
// #include <stdlib.h>
// #include "zmqx.h"
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
// slice, receives less than one PUSH sender sends).
// Counts are what arrived, not what was sent, and every read is
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

// PullEndpoint is the PULL socket's bound endpoint, ready to connect to.
func (s *Sink) PullEndpoint() string { return s.pullEP }

// RouterEndpoint is the ROUTER socket's bound endpoint ("" when none).
func (s *Sink) RouterEndpoint() string { return s.routerEP }

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

// sinkRecvTimeout is the loops' receive timeout in milliseconds: how long
// an idle loop takes to notice Close.
const sinkRecvTimeout = 50

func (s *Sink) open(typ C.int, endpoint string) (unsafe.Pointer, string, error) {
	cep := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cep))
	var out [256]C.char
	sock, errno := C.lmf_bind(s.ctx, typ, cep, sinkRecvTimeout, &out[0], C.size_t(len(out)))
	if sock == nil {
		return nil, "", errno // a syscall.Errno; read on the thread that failed
	}
	return sock, C.GoString(&out[0]), nil
}

func (s *Sink) slot(i int) *C.lmf_counts {
	return (*C.lmf_counts)(unsafe.Add(unsafe.Pointer(s.counts), uintptr(i)*unsafe.Sizeof(C.lmf_counts{})))
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
