package refcontroller

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Counters is an exact snapshot of what the server received and did.
type Counters struct {
	PullFrames       int64 // frames read from the PULL socket
	PullMessages     int64 // multipart messages read from the PULL socket
	PullDecodeErrors int64 // PULL frames that did not decode
	Batches          int64 // BatchedKVOperationMsg applied
	KVOpsApplied     int64 // KV operations applied (admits + evicts)
	Admits           int64
	Evicts           int64
	DroppedBatches   int64 // batches from unregistered workers, dropped
	DroppedKVOps     int64 // KV operations inside those batches
	SeqDiscontinuity int64 // batches with a sequence discontinuity (once per batch)
	Deregistered     int64 // DeRegisterMsg that removed a worker
	DeregisterMisses int64 // DeRegisterMsg for a worker not registered
	UnhandledPull    int64 // frames that decoded but have no PULL handler

	ReplyRequests      int64 // requests on the reply ROUTER (frames[2] read)
	HeartbeatRequests  int64 // requests on the heartbeat ROUTER
	ShortRequests      int64 // ROUTER messages with fewer than 3 frames (no reply)
	RouterDecodeErrors int64 // ROUTER payloads that did not decode (ErrorMsg sent)
	Replies            int64 // replies sent
	ErrorReplies       int64 // of which ErrorMsg

	Registered int // workers registered now
	Keys       int // keys held now over all workers and locations

	// ByType counts every decoded message per class name, over all sockets.
	ByType map[string]int64
}

// counters is the live, concurrently updated form of Counters.
type counters struct {
	pullFrames, pullMessages, pullDecodeErrors                    atomic.Int64
	batches, admits, evicts, droppedBatches, droppedKVOps         atomic.Int64
	seqDiscontinuity, deregistered, deregisterMisses, unhandled   atomic.Int64
	replyRequests, heartbeatRequests, shortRequests, routerDecode atomic.Int64
	replies, errorReplies                                         atomic.Int64

	typesMu sync.Mutex
	byType  map[string]*atomic.Int64
}

func (c *counters) countType(name string) {
	c.typesMu.Lock()
	n := c.byType[name]
	if n == nil {
		if c.byType == nil {
			c.byType = map[string]*atomic.Int64{}
		}
		n = &atomic.Int64{}
		c.byType[name] = n
	}
	c.typesMu.Unlock()
	n.Add(1)
}

func (c *counters) snapshot(reg *registry) Counters {
	out := Counters{
		PullFrames: c.pullFrames.Load(), PullMessages: c.pullMessages.Load(), PullDecodeErrors: c.pullDecodeErrors.Load(),
		Batches: c.batches.Load(), Admits: c.admits.Load(), Evicts: c.evicts.Load(),
		DroppedBatches: c.droppedBatches.Load(), DroppedKVOps: c.droppedKVOps.Load(),
		SeqDiscontinuity: c.seqDiscontinuity.Load(), Deregistered: c.deregistered.Load(),
		DeregisterMisses: c.deregisterMisses.Load(), UnhandledPull: c.unhandled.Load(),
		ReplyRequests: c.replyRequests.Load(), HeartbeatRequests: c.heartbeatRequests.Load(),
		ShortRequests: c.shortRequests.Load(), RouterDecodeErrors: c.routerDecode.Load(),
		Replies: c.replies.Load(), ErrorReplies: c.errorReplies.Load(),
		ByType: map[string]int64{},
	}
	out.KVOpsApplied = out.Admits + out.Evicts
	out.Registered, out.Keys = reg.totals()
	c.typesMu.Lock()
	for k, v := range c.byType {
		out.ByType[k] = v.Load()
	}
	c.typesMu.Unlock()
	return out
}

// typeNames returns the class names seen, sorted.
func (c Counters) typeNames() []string {
	names := make([]string, 0, len(c.ByType))
	for k := range c.ByType {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
