// Package enginetest is a stand-in LMCache controller for tests of the load
// engine and the lmfast binary: Start binds real PULL and ROUTER sockets on
// 127.0.0.1 that decode every frame, count what arrived (Counts), check
// sequence numbers and answer requests with well-formed replies.
package enginetest
