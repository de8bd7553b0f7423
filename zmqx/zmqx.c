// libzmq receive loops for servers that must not be the bottleneck: a
// PULL socket that hands over every queued frame in one call (Puller), and
// counting PULL and ROUTER loops that copy nothing (Sink).

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zmqx.h"

void *lmf_bind(void *ctx, int typ, const char *endpoint, int rcvtimeo_ms, char *out, size_t outlen) {
	void *s = zmq_socket(ctx, typ);
	if (s == NULL) return NULL;
	int linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (rcvtimeo_ms >= 0) zmq_setsockopt(s, ZMQ_RCVTIMEO, &rcvtimeo_ms, sizeof rcvtimeo_ms);
	if (zmq_bind(s, endpoint) != 0) {
		int e = errno;
		zmq_close(s);
		errno = e;
		return NULL;
	}
	zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &outlen);
	return s;
}

// ---- Puller ----

// lmf_puller_open binds a PULL socket on a fresh context. It returns NULL
// with errno set when the bind fails.
lmf_puller *lmf_puller_open(const char *endpoint, char *out, size_t outlen) {
	lmf_puller *p = calloc(1, sizeof *p);
	if (p == NULL) return NULL;
	p->ctx = zmq_ctx_new();
	p->sock = p->ctx ? lmf_bind(p->ctx, ZMQ_PULL, endpoint, -1, out, outlen) : NULL;
	if (p->sock == NULL) {
		int e = errno;
		if (p->ctx) zmq_ctx_term(p->ctx);
		free(p);
		errno = e;
		return NULL;
	}
	zmq_msg_init(&p->msg);
	return p;
}

void lmf_puller_close(lmf_puller *p) {
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
int lmf_puller_recv(lmf_puller *p, char *arena, size_t cap, size_t *lens, unsigned char *more,
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

// ---- Sink ----

static long long lmf_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void lmf_stop(lmf_counts *c) { __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE); }

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
lmf_counts lmf_snapshot(lmf_counts *c) {
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
void lmf_pull_loop(void *s, lmf_counts *c) {
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
void lmf_router_loop(void *s, lmf_counts *c, const void *reply, size_t reply_len) {
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
