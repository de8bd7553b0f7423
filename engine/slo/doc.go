// Package slo reads and checks the service-level objectives of a controller
// run: the terms of `--slo` (what a sweep step must meet to pass) and of
// `--fail-if` (thresholds on any run, as k6 has them), in one grammar.
//
// A specification is terms joined by commas; a term is
//
//	[op "."] stat comparator value [unit]
//
// for example `p2p_lookup.p99<2ms,errors<0.1%,dropped<1%`.
//
//   - op names one of the run's operations (the caller passes them with
//     Parse); without it, a term covers all of them. Latency terms need one.
//   - stat is a latency percentile p50, p90, p95, p99, p999 (or p99.9),
//     max or mean; errors (failed / attempted); dropped (open-loop requests
//     due but never sent / due); or rate (successful requests per second).
//   - comparator is <, <=, > or >=; the term holds when the measured value
//     compares so with the threshold.
//   - a latency takes a unit ns, us (µs), ms or s; errors and dropped are a
//     ratio with %, or a count without a unit; rate takes no unit or /s.
//
// Latency terms read corrected latency (from each request's intended send
// time) in an open loop and service latency in a closed one, because that is
// the latency a caller of the controller sees in each case. Operations sent
// on the PUSH socket (admit, evict, deregister) have no reply: their latency
// is the time to enqueue a frame locally, which says nothing about the
// controller, so a latency term on one is an error.
//
// A term that finds nothing to measure (no samples of its operation, nothing
// attempted or due) fails: a capacity must never be claimed from an absent
// number.
package slo
