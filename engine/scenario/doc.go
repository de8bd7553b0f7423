// Package scenario runs lmfast's controller scenarios (--scenario NAME):
// patterns of a real cluster played beside, or instead of, the engine's
// steady mix, each checked against what the simulated cluster did.
//
// Entry points:
//
//	Names      the scenarios there are
//	New        a scenario by name, with its Params
//	DefaultOperations  the --operations mix a scenario runs by default
//	Scenario   its life: Prepare (flags and the engine group's Config),
//	           Setup (before the load), Run (beside the load), Interval
//	           (each interval line), Finish (the end-state checks)
//
// Each scenario is one file that registers itself by name (register):
//
//	churn       workers join and leave at --churn-rate during the load;
//	            lookups of their keys and the controller's worker list
//	            are checked against lmfast's own model (churn.go)
//	p2p-stress  many peers look up prefixes other workers hold, each
//	            reply checked against the cluster lmfast admitted
//	            (p2pstress.go, the expected answers in cluster.go)
//
// restart-storm, which restarts the controller, is the package storm's.
//
// A scenario writes "scenario" lines (phase "start" or "setup", then
// "interval" and "end")
// and "error" lines on the run's stream, and one human line per phase on
// stderr. Its own sockets (client.go) are separate from the engine's.
package scenario
