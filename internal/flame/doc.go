// Package flame renders a pprof profile (the Go CPU profile lmfast writes
// with `l2 --flamegraph on`) as a standalone SVG flame graph in the layout
// of Brendan Gregg's flamegraph.pl, which LMCache's `--flamegraph on` runs:
// one box per stack frame, its width the frame's share of the samples,
// callers below callees, siblings in name order.
package flame
