// Package compare compares two sets of lmfast runs operation by operation
// and says which differences are beyond noise (`lmfast compare`): a CI
// check of a controller build against a baseline, benchstat's idea applied
// to lmfast's interval lines.
//
// Entry points: Load reads one set's JSONL files (report.Read) and merges
// each run's processes interval by interval (report.Merge, ByInterval);
// Compare tests every operation's figures of set B against set A; Write
// renders the Result as text, Markdown or JSON. The statistics are
// exported for their own tests: MannWhitney and PercentileTest.
//
// The samples are intervals, not requests. Requests of one interval share
// its conditions (a controller stall, a neighbour's load), so treating
// them as independent would call every such blip significant; whole
// intervals are taken as exchangeable when the two sets measure the same
// system.
//
//   - Rate (requests/s): each set's figure is its requests over the
//     seconds its intervals cover; the test is Mann–Whitney's U over the
//     per-interval rates (two-sided; exact without ties up to 50 intervals
//     in all, else the normal approximation with tie and continuity
//     corrections). U is rank-based: one odd interval does not decide it.
//   - Latency percentiles (p50, p90, p99, p99.9 by default, in µs): each
//     set's figure is the percentile of all its intervals' histograms
//     merged exactly (what `lmfast report` prints for those intervals);
//     the test is a permutation test of that very statistic: the pooled
//     intervals are re-split at random into groups of the two sets' sizes
//     (all splits when there are at most Options.Splits; random ones stop
//     early once 20 were as extreme as observed), each group's
//     histograms merged, and p is the share of splits whose percentile
//     difference is at least the observed one. Unlike a test over
//     per-interval percentiles, it judges the figure shown, and it stays
//     valid for tail percentiles an interval holds too few requests to
//     estimate.
//
// A set is several runs when its files hold several run labels; a run of
// several processes (one --run-label) is merged first, its rates summed.
// With Options.Unit "run" each run is one sample of the tests (its rate,
// its merged histogram): intervals of one run share the machine's state
// during it, so for repeated runs made at different times the run-to-run
// variation is what a difference must beat.
// Latency is the corrected one (from each request's intended send time)
// where both sets have it, as --slo reads it, else the service time; a
// PUSH operation's latency is lmfast's enqueue time, not the controller's,
// and only its rate is compared.
//
// Every row's p-value is adjusted with Holm's method over all rows, so
// that the chance of reporting any difference when there is none stays
// below Alpha, however many operations and percentiles are compared. A
// significant difference beyond Options.Threshold is a regression when
// worse (lower rate, higher latency) and an improvement when better;
// within noise it is "~".
package compare
