// Package engine is lmfast's controller load engine: it sends a mix of
// LMCache controller operations to a controller over ZMQ, as fast or as
// evenly paced as asked, and measures what happened.
//
// Entry points:
//
//	ParseOperations   the --operations mix into []OpShare
//	Groups            a run's Config split into engine groups (LMCache's processes)
//	Run               one group's run: registration, timed run, deregistration, drain
//	Merge             the groups' Results into one
//	WriteSummaries    a Result's JSONL summary lines
//	WriteReport       a Result's human report (WriteHeadroom: its headroom)
//
// Inside a group, producers turn the mix into pre-encoded messages, a
// Pacer decides when the next request goes (ConstantPacer for --rate,
// SchedulePacer for --rate-schedule, the superposed arrivals of a
// sender's workers for --worker-rate), pinned sender workers send them,
// and a collector measures each interval and builds the Result.
// With Config.HeartbeatInterval, an agent (agent.go) plays LMCache's
// worker process beside the mix: a heartbeat timer per simulated worker
// and the full-sync protocol when a reply asks for it, with the keys
// each worker's sent batches left it holding (heldkeys.go).
package engine
