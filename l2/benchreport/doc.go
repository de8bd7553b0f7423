// Package benchreport renders the report of scripts/bench-l2.sh — lmfast
// l2 against fio on one machine's disk — from the rows the script records
// in its JSONL: medians over repetitions, lmfast / the best fio engine per
// repetition and per tight pair, verdicts against the targets, failed runs,
// and the markdown page.
//
// Entry points: Read parses the JSONL; Render writes the report;
// Data.BestEngine is the fio engine the script pairs lmfast with while it
// runs. Numbers keep the text the script recorded: a median of an odd
// count is that text, of an even count the mean of the middle two printed
// with fixed decimals, as the script's awk did.
package benchreport
