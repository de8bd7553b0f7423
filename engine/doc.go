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
package engine
