package engine

import (
	"github.com/lmfast/lmfast/engine/keydist"
	"github.com/lmfast/lmfast/wire"
)

// LookupOracle makes a run's p2p lookups from a cluster whose state it
// knows (--scenario p2p-stress) and checks every reply against the answer
// the controller must give. The producers call Lookup while they fill the
// rings (the send path only copies its Expect); the senders call Check on
// every reply, from several goroutines at once.
type LookupOracle interface {
	// Lookup appends to dst the hashes of the next lookup the worker
	// (instance, worker) sends, drawing with src, and returns them with
	// the expected answer.
	Lookup(src keydist.Source, instance string, worker int, dst []wire.Int) ([]wire.Int, Expect)
	// Check returns "" when reply (a reply's last frame, already known to
	// be a BatchedP2PLookupRetMsg) is the answer e, else the error text
	// the run counts.
	Check(e Expect, reply []byte) string
}

// Expect is a LookupOracle's expected answer, opaque to the engine.
type Expect uint64
