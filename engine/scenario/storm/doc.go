// Package storm runs the restart-storm scenario (--scenario restart-storm):
// after a steady phase the controller restarts, every worker's next
// heartbeat brings a full sync, and the scenario follows the controller's
// key count against what the workers hold, and the lookups, until the run
// ends.
//
// Entry points:
//
//	New        a Storm from its Config
//	Storm      its life: Workers (the engine group's workers, at the timed
//	           run's start), Reporter (wraps the group's Reporter to take
//	           the storm's lookups), Run (the storm's goroutine), Stop
//	Restarter  how the controller restarts: the command's in-process
//	           restart of an embedded controller, or Command (a shell
//	           command, --restart-cmd)
//	KeyStats, ExternalKeys  readers of the controller's key count
//	           (keys.go)
//
// The storm writes "scenario" lines (phase "steady", "restart", "end") on
// the run's stream and one human line per phase on stderr. It does not fit
// the scenario package's Scenario: it needs the engine's workers, the
// interval values before they are written, and the controller's restart.
package storm
