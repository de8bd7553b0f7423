// Package chart draws lmfast results, as `lmfast plot` does: from the
// lines report.Read returns it builds the panels the data supports and
// renders them, stacked, as SVG, PNG or an HTML page holding the SVG.
//
// Entry points: Build chooses the panels (a panel whose data is absent is
// left out; no panel at all is ErrNoData); Render draws them.
//
// Panels, each present only when its data is:
//   - throughput over time: requests/s sent per operation from interval
//     lines aligned on wall time, and the frames/s the controller received
//     where interval lines carry received_fps;
//   - latency over time, one row per operation: p50, p99 and max of the
//     service latency, and beside it of the latency from the intended send
//     time (corrected), from interval lines;
//   - the latency percentile spectrum of every operation's merged
//     histogram on HdrHistogram's "1 in N" axis (90%, 99%, 99.9%, ...);
//   - for sweeps (step lines): latency percentiles against the achieved
//     rate, with the SLO's latency thresholds and the capacity marked;
//   - for `lmfast l2`: MB/s of every measured round per operation.
//
// The drawing is gonum.org/v1/plot's.
package chart
