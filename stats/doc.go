// Package stats records latencies in HDR histograms and renders them the way
// every lmfast stream does: microsecond percentiles for people, and the whole
// histogram in the standard HdrHistogram compressed-base64 form so that
// summaries from many processes or machines merge exactly.
//
// Entry points: NewRecorder (concurrent recording, interval by interval),
// Summarize (the microsecond view), Encode and Decode (the base64 form) and
// Merge, which users call on the "hdr" fields of lmfast's summary lines.
//
// Histograms count nanoseconds from 1 ns to one hour with 3 significant
// digits (a value is off by at most 0.1 %), the same precision wrk2 uses.
package stats
