// Package calibrate measures this machine's raw ZMQ ceiling: how many
// messages pebbe/zmq4 PUSH→PULL and DEALER→ROUTER can move with lmfast's own
// pre-encoded bytes and nothing else, over tcp://127.0.0.1 or ipc://, as
// libzmq's local_thr/remote_thr and local_lat/remote_lat do. No load
// generator on this machine can beat it, so a run whose rate is close to it
// was limited by the generator's machine, not by the controller under test
// (the "headroom" of every lmfast controller summary).
//
// Entry points:
//
//	Ceiling             a controller run's own ceilings, for its headroom
//	Push, RoundTrip     one raw measurement
//	EnginePush, EngineRoundTrip  lmfast's engine measured the same way
//	Plan, Rounds, Summarize      `lmfast calibrate`: its measurements, their
//	                    repetition and their medians and engine/raw ratios
//
// PUSH rates are counted at the receiving end (zmqx.Sink), from the first
// message that arrived to the last; what the senders handed to their
// sockets is only checked against it. Round trips are counted where they
// complete, at the senders (from the first request to the last reply), and
// checked against the requests the ROUTER answered.
package calibrate
