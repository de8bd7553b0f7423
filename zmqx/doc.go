// Package zmqx is lmfast's ZMQ transport: the sockets a load generator
// opens as LMCache's workers open them, and the receiving ends a server
// needs when it must never be the bottleneck.
//
// Sending side (pebbe/zmq4): NewPush and NewDealer open PUSH and DEALER
// sockets with the settings of LMCache's controller benchmark;
// SendRequest and RecvReply frame a request and read its reply.
//
// Receiving side (libzmq in C, zmqx.c): OpenPuller binds a PULL socket
// that hands over every queued frame in one call, copied into a reused
// arena; StartSink binds a PULL and a ROUTER socket whose loops count
// frames, or answer requests, without copying anything into Go.
package zmqx
