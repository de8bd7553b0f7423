package refcontroller

/*
#cgo pkg-config: libzmq
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

// lmf_puller is a PULL socket on its own context, with the frame that did
// not fit the caller's arena kept for the next call.
typedef struct {
	void *ctx, *sock;
	zmq_msg_t msg;
	int pending;
} lmf_puller;

// lmf_puller_open binds a PULL socket (linger 0, libzmq's default HWM, as
// LMCache's controller has) and writes the bound endpoint into out. It
// returns NULL with errno set when the bind fails.
static lmf_puller *lmf_puller_open(const char *endpoint, char *out, size_t outlen) {
	lmf_puller *p = calloc(1, sizeof *p);
	if (p == NULL) return NULL;
	p->ctx = zmq_ctx_new();
	p->sock = p->ctx ? zmq_socket(p->ctx, ZMQ_PULL) : NULL;
	int e, linger = 0;
	if (p->sock == NULL) goto fail;
	zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_bind(p->sock, endpoint) != 0) goto fail;
	zmq_getsockopt(p->sock, ZMQ_LAST_ENDPOINT, out, &outlen);
	zmq_msg_init(&p->msg);
	return p;
fail:
	e = errno;
	if (p->sock) zmq_close(p->sock);
	if (p->ctx) zmq_ctx_term(p->ctx);
	free(p);
	errno = e;
	return NULL;
}

static void lmf_puller_close(lmf_puller *p) {
	zmq_msg_close(&p->msg);
	zmq_close(p->sock);
	zmq_ctx_term(p->ctx);
	free(p);
}

// lmf_puller_recv copies up to max frames into arena (cap bytes), their
// sizes into lens and their ZMQ_RCVMORE flags into more, in one call: it
// waits up to timeout_ms for the first frame, then takes what is queued
// without waiting. It returns the number of frames (0 when none came), -1
// on a socket error with none received (errno set), or -2 when the next
// frame alone is larger than cap (its size in *need; it stays pending).
static int lmf_puller_recv(lmf_puller *p, char *arena, size_t cap, size_t *lens, unsigned char *more,
                           int max, int timeout_ms, size_t *need) {
	int n = 0;
	size_t used = 0;
	while (n < max) {
		if (!p->pending) {
			if (zmq_msg_recv(&p->msg, p->sock, ZMQ_DONTWAIT) < 0) {
				if (n > 0) return n;
				if (errno != EAGAIN && errno != EINTR) return -1;
				if (timeout_ms < 0) return 0;
				zmq_pollitem_t it = {p->sock, 0, ZMQ_POLLIN, 0};
				int r = zmq_poll(&it, 1, timeout_ms);
				if (r < 0 && errno != EINTR) return -1;
				if (r <= 0) return 0;
				timeout_ms = -1; // one wait per call
				continue;
			}
			p->pending = 1;
		}
		size_t size = zmq_msg_size(&p->msg);
		if (used + size > cap) {
			if (n > 0) return n;
			*need = size;
			return -2;
		}
		memcpy(arena + used, zmq_msg_data(&p->msg), size);
		lens[n] = size;
		more[n] = (unsigned char)zmq_msg_more(&p->msg);
		used += size;
		n++;
		p->pending = 0;
	}
	return n;
}
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// puller is the server's PULL socket. It receives frames in batches, one
// cgo call copying every queued frame (up to maxFrames) into a reused
// arena: pebbe/zmq4 costs a cgo call, a getsockopt and a fresh Go slice
// per frame, which made receiving the largest part of the server's work.
type puller struct {
	p      *C.lmf_puller
	port   int
	arena  []byte
	lens   []C.size_t
	more   []C.uchar
	frames [][]byte // views into arena of the last recv
	last   []bool   // last[i]: frames[i] ends its multipart message
}

const (
	pullerFrames = 256
	pullerArena  = 1 << 20
)

// openPuller binds a PULL socket on host:port (port 0: any free one).
func openPuller(host string, port int) (*puller, error) {
	ep := fmt.Sprintf("tcp://%s:%d", host, port)
	if port == FreePort {
		ep = fmt.Sprintf("tcp://%s:*", host)
	}
	cep := C.CString(ep)
	defer C.free(unsafe.Pointer(cep))
	var out [256]C.char
	p, errno := C.lmf_puller_open(cep, &out[0], C.size_t(len(out)))
	if p == nil {
		err := error(errno)
		if errno == syscall.EADDRINUSE {
			err = fmt.Errorf("address already in use")
		}
		return nil, &BindError{Socket: "pull", Port: port, Err: err}
	}
	last := C.GoString(&out[0])
	bound, err := strconv.Atoi(last[strings.LastIndex(last, ":")+1:])
	if err != nil {
		C.lmf_puller_close(p)
		return nil, fmt.Errorf("pull: cannot read bound port from %q", last)
	}
	return &puller{p: p, port: bound, arena: make([]byte, pullerArena),
		lens: make([]C.size_t, pullerFrames), more: make([]C.uchar, pullerFrames),
		frames: make([][]byte, pullerFrames), last: make([]bool, pullerFrames)}, nil
}

// recv waits up to timeout for frames and returns those queued, as views
// into the puller's arena valid until the next recv.
func (p *puller) recv(timeout time.Duration) ([][]byte, []bool, error) {
	if len(p.arena) > pullerArena {
		p.arena = make([]byte, pullerArena) // give back what one huge frame took
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

// close closes the socket and its context (dropping what is queued).
func (p *puller) close() { C.lmf_puller_close(p.p) }
