package zmqx

// #cgo pkg-config: libzmq
// #include <stdlib.h>
// #include "zmqx.h"
import "C"

import (
	"time"
	"unsafe"
)

// Puller is a bound PULL socket that receives frames in batches: one cgo
// call copies every queued frame (up to a batch) into a reused arena,
// where pebbe/zmq4 costs a cgo call, a getsockopt and a fresh Go slice per
// frame. A Puller is not safe for concurrent use.
type Puller struct {
	p        *C.lmf_puller
	endpoint string
	arenaLen int
	arena    []byte
	lens     []C.size_t
	more     []C.uchar
	frames   [][]byte // views into arena of the last Recv
	last     []bool   // last[i]: frames[i] ends its multipart message
}

// OpenPuller binds a PULL socket on its own libzmq context to endpoint
// (e.g. "tcp://127.0.0.1:*"; linger 0, libzmq's default HWM, as LMCache's
// controller has). Each Recv returns at most maxFrames frames and copies
// them into an arena of arenaBytes (grown for a single larger frame). A
// failed bind returns the syscall.Errno.
func OpenPuller(endpoint string, maxFrames, arenaBytes int) (*Puller, error) {
	maxFrames, arenaBytes = max(maxFrames, 1), max(arenaBytes, 1)
	cep := C.CString(endpoint)
	defer C.free(unsafe.Pointer(cep))
	var out [256]C.char
	p, errno := C.lmf_puller_open(cep, &out[0], C.size_t(len(out)))
	if p == nil {
		return nil, errno // a syscall.Errno; read on the thread that failed
	}
	return &Puller{p: p, endpoint: C.GoString(&out[0]), arenaLen: arenaBytes, arena: make([]byte, arenaBytes),
		lens: make([]C.size_t, maxFrames), more: make([]C.uchar, maxFrames),
		frames: make([][]byte, maxFrames), last: make([]bool, maxFrames)}, nil
}

// Endpoint is the bound endpoint (with the port a "*" picked).
func (p *Puller) Endpoint() string { return p.endpoint }

// Recv waits up to timeout for a frame, then takes every frame queued
// without waiting. It returns them as views into the Puller's arena, valid
// until the next Recv, with last[i] set where frames[i] ends its multipart
// message; none when the timeout passed.
func (p *Puller) Recv(timeout time.Duration) (frames [][]byte, last []bool, err error) {
	if len(p.arena) > p.arenaLen {
		p.arena = make([]byte, p.arenaLen) // give back what one huge frame took
	}
	for {
		var need C.size_t
		n, errno := C.lmf_puller_recv(p.p, (*C.char)(unsafe.Pointer(&p.arena[0])), C.size_t(len(p.arena)),
			&p.lens[0], &p.more[0], C.int(len(p.lens)), C.int(timeout.Milliseconds()), &need)
		switch {
		case n == -2:
			p.arena = make([]byte, int(need))
			continue
		case n < 0:
			return nil, nil, errno
		}
		off := 0
		for i := 0; i < int(n); i++ {
			size := int(p.lens[i])
			p.frames[i] = p.arena[off : off+size : off+size]
			p.last[i] = p.more[i] == 0
			off += size
		}
		return p.frames[:n], p.last[:n], nil
	}
}

// Close closes the socket and its context, dropping what is queued.
func (p *Puller) Close() { C.lmf_puller_close(p.p) }
