// Package jsonl writes what the controller engine measures as lmfast's
// JSONL stream (schema lmfast.v1, see the README): New returns an
// engine.Reporter that turns each value into lines on a stream.Writer —
// "interval" (per op, then op "all"), "error", "summary" (per op, then op
// "all"), "step", "capacity" and "sample".
package jsonl
