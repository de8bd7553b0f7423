// Package stream writes lmfast's results as JSON lines: one self-contained
// JSON object per line, written whole, so that jq, pandas and lmfast's own
// report tools can read a run while it is still being written and after it
// was interrupted.
//
// New makes a Writer for one command's run (NewRunID names the run);
// Writer.Event starts a line. ParseLines reads a stream back.
//
// Every line carries the same leading fields:
//
//	time   RFC 3339 UTC timestamp with nanoseconds, when the line was made
//	event  what the line is: "config", "interval", "summary", "error", "sample", ...
//	run    the run id, shared by every line of one invocation
//	proc   the engine group (process) number, 0 for single-group runs
//	cmd    the command that wrote it
//
// The "config" event of each run also carries "schema": Schema.
package stream
