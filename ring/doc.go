// Package ring provides lock-free single-producer/single-consumer rings:
// New makes an SPSC of a fixed capacity.
//
// lmfast uses them to hand pre-encoded message batches from producer
// goroutines to pinned sender workers, and per-request samples from senders
// to the JSONL writer, without locks and without allocating per message:
// slots are allocated once and reused lap after lap, and the zero-copy
// Reserve/Publish and Peek/Release pairs let both sides work on a slot in
// place (a slot holding a []byte keeps its capacity across laps).
//
// Exactly one goroutine may act as the producer (Reserve, Publish, TryPush,
// Close) and exactly one as the consumer (Peek, Release, TryPop, Pop) at any
// time; Len, Full and Closed may be called from anywhere. Misuse is not
// detected.
package ring
