package refcontroller

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/lmfast/lmfast/wire"
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

	InjectedDrops int64 // PULL frames dropped unread by Inject.Drop (in no other count)

	SyncCommands         int64 // heartbeat replies carrying a FullSyncCommand
	SyncStarts           int64 // FullSyncStartMsg accepted
	SyncStartsRejected   int64 // FullSyncStartMsg refused (worker unknown or syncing another session)
	SyncBatches          int64 // FullSyncBatchMsg recorded and applied
	SyncBatchesRejected  int64 // FullSyncBatchMsg ignored (no such SYNCING session)
	SyncKeys             int64 // keys admitted by those batches
	SyncCompleted        int64 // FullSyncEndMsg that completed a session
	SyncEndsRejected     int64 // FullSyncEndMsg for no such session
	SyncDiscardedBatches int64 // BatchedKVOperationMsg discarded while its worker was syncing
	SyncDiscardedKVOps   int64 // KV operations inside those batches
	TimedOut             int64 // workers deregistered by the health check

	Registered int // workers registered now
	Keys       int // keys held now over all workers and locations

	// ByType counts every decoded message per class name, over all sockets.
	ByType map[string]int64
}

// counters is the live, concurrently updated form of Counters.
type counters struct {
	pullFrames, pullMessages, pullDecodeErrors                     atomic.Int64
	batches, admits, evicts, droppedBatches, droppedKVOps          atomic.Int64
	seqDiscontinuity, deregistered, deregisterMisses, unhandled    atomic.Int64
	replyRequests, heartbeatRequests, shortRequests, routerDecode  atomic.Int64
	replies, errorReplies                                          atomic.Int64
	injectedDrops                                                  atomic.Int64
	syncCommands, syncStarts, syncStartsRejected, syncBatches      atomic.Int64
	syncBatchesRejected, syncKeys, syncCompleted, syncEndsRejected atomic.Int64
	syncDiscardedBatches, syncDiscardedKVOps, timedOut             atomic.Int64

	// byType[typeIndex[name]] counts decoded messages of class name. Every
	// message that decodes has one of wire.KnownTypes, so the hot path is a
	// read of an immutable map and one atomic add: no lock.
	byType [numTypes]atomic.Int64
	// otherMu guards other, for a class outside wire.KnownTypes (none
	// today: it keeps a future wire type from being lost, not fast).
	otherMu sync.Mutex
	other   map[string]int64
}

var (
	knownTypes = wire.KnownTypes()
	typeIndex  = func() map[string]int {
		m := make(map[string]int, len(knownTypes))
		for i, n := range knownTypes {
			m[n] = i
		}
		return m
	}()
)

// numTypes bounds len(wire.KnownTypes()); init checks it.
const numTypes = 64

func init() {
	if len(knownTypes) > numTypes {
		panic("refcontroller: raise numTypes to cover wire.KnownTypes")
	}
}

func (c *counters) countType(name string) {
	if i, ok := typeIndex[name]; ok {
		c.byType[i].Add(1)
		return
	}
	c.otherMu.Lock()
	if c.other == nil {
		c.other = map[string]int64{}
	}
	c.other[name]++
	c.otherMu.Unlock()
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
		Replies: c.replies.Load(), ErrorReplies: c.errorReplies.Load(), InjectedDrops: c.injectedDrops.Load(),
		ByType: map[string]int64{},

		SyncCommands: c.syncCommands.Load(), SyncStarts: c.syncStarts.Load(), SyncStartsRejected: c.syncStartsRejected.Load(),
		SyncBatches: c.syncBatches.Load(), SyncBatchesRejected: c.syncBatchesRejected.Load(), SyncKeys: c.syncKeys.Load(),
		SyncCompleted: c.syncCompleted.Load(), SyncEndsRejected: c.syncEndsRejected.Load(),
		SyncDiscardedBatches: c.syncDiscardedBatches.Load(), SyncDiscardedKVOps: c.syncDiscardedKVOps.Load(),
		TimedOut: c.timedOut.Load(),
	}
	out.KVOpsApplied = out.Admits + out.Evicts
	out.Registered, out.Keys = reg.totals()
	for i, name := range knownTypes {
		if n := c.byType[i].Load(); n > 0 {
			out.ByType[name] = n
		}
	}
	c.otherMu.Lock()
	for name, n := range c.other {
		out.ByType[name] = n
	}
	c.otherMu.Unlock()
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
