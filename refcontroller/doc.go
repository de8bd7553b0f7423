// Package refcontroller is lmfast's reference LMCache cache controller: the
// controller's ZMQ sockets, message handling and state (docs/protocol.md,
// "Sockets" and "The controller"), with byte-identical replies and exact
// counters, so that a load run can be checked end to end: what the load
// generator sent, what arrived, what was applied.
//
// Start binds a Server from a Config (ports, the health check, test aids: Stall, Inject,
// DropRate); Server.Counters reads what it received and applied,
// Server.SyncStatus the full-sync tracker's view (fullsync.go: LMCache's
// FullSyncTracker, the full-sync handlers and the health check).
//
// Deliberate differences from LMCache's controller: it never opens a
// connection to the ip:port a worker registers (it records them); a
// malformed frame on the PULL socket is counted and skipped instead of
// ending the PULL loop (Config.CompatPullDies restores that); decode and
// apply run beside the ROUTER loops instead of on one asyncio thread.
package refcontroller
