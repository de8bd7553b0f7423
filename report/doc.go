// Package report reads and merges lmfast's JSONL streams: any number of
// files, of any command (controller, l2, calibrate, sweeps), from any number
// of processes and machines, into one table that `lmfast report` renders as
// text, JSON, Markdown, CSV or an HdrHistogram interval log.
//
// Entry points: Read parses files into an Input (every line kept, bad
// lines counted by file and line, unknown event kinds carried, not
// rejected); Merge groups an Input's lines by operation, process, wall-time
// interval or sweep step into a Report; Write renders a Report in a Format.
//
// Merging is exact: counts are summed, and latency histograms (the `hdr`,
// `hdr_corrected` and `hdr_service` fields, HdrHistogram V2 compressed
// base64) are added bucket by bucket, so a merged percentile is the
// percentile of all the samples together, never an average of percentiles.
// Where a histogram is missing for one of several sources, the merged
// percentiles are left out rather than estimated.
//
// A source is one (run, proc) pair: one engine group of one lmfast
// invocation. Summary lines with proc -1 (the aggregate an invocation with
// several groups writes itself) are skipped, since their groups are merged
// here already. The processes of one run started apart (`lmfast controller
// --process-id`) share a run label on their config lines: the report names
// it, and warns when files of several labels are merged, when two
// processes of one label wrote the same proc, and when their interval
// lines start further apart than their hosts' clock errors explain.
package report
