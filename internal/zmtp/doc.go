// Package zmtp asks a TCP listener what it is, the way a ZeroMQ peer
// would: it opens one connection, sends a ZMTP 3.0 greeting with the NULL
// security mechanism, and reads the listener's greeting and READY command,
// which name its socket type (PULL, ROUTER, ...). Anything else that
// answers (an HTTP server, a server that sends nothing) is reported as not
// a ZMQ peer, with what it did instead.
//
// libzmq's own socket monitor says only that a handshake failed, not with
// whom; and a PUSH socket connected to a listener that is not a PULL
// socket queues its messages and reports them sent. A caller probes first
// to catch a wrong port before any load is sent.
//
// The probe is pure Go (no cgo) and leaves a ZMQ peer as a short-lived
// client would: when the peer's type is compatible with the socket type
// the caller will connect with, the probe completes the handshake with a
// READY of that type before it closes; otherwise it closes before READY,
// which the peer treats as a connection that failed its handshake. No
// message is ever sent.
//
// Compatible gives ZMTP's (and libzmq's) table of socket types that may
// talk to each other.
package zmtp
