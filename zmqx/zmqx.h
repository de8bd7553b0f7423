// The libzmq receive loops of package zmqx, called from Go through cgo.

#ifndef LMFAST_ZMQX_H
#define LMFAST_ZMQX_H

#include <stddef.h>
#include <zmq.h>

// lmf_bind opens a socket of type typ on ctx (linger 0; a receive timeout
// of rcvtimeo_ms unless it is negative; libzmq's default HWMs, as LMCache's
// controller has), binds it to endpoint and writes the bound endpoint
// (ZMQ_LAST_ENDPOINT) into out. It returns NULL with errno set when a step
// fails.
void *lmf_bind(void *ctx, int typ, const char *endpoint, int rcvtimeo_ms, char *out, size_t outlen);

// lmf_puller is a PULL socket on its own context, with the frame that did
// not fit the caller's arena kept for the next call.
typedef struct {
	void *ctx, *sock;
	zmq_msg_t msg;
	int pending;
} lmf_puller;

lmf_puller *lmf_puller_open(const char *endpoint, char *out, size_t outlen);
void lmf_puller_close(lmf_puller *p);
int lmf_puller_recv(lmf_puller *p, char *arena, size_t cap, size_t *lens, unsigned char *more,
                    int max, int timeout_ms, size_t *need);

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

void lmf_stop(lmf_counts *c);
lmf_counts lmf_snapshot(lmf_counts *c);
void lmf_pull_loop(void *s, lmf_counts *c);
void lmf_router_loop(void *s, lmf_counts *c, const void *reply, size_t reply_len);

#endif
