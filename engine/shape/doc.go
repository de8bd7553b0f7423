// Package shape reads and evaluates load shapes: a target (requests per
// second for --rate-schedule, request lanes for --concurrency-schedule) as
// a function of the time since the measured run began, and its integral,
// from which the engine's schedule Pacer computes when each request is due.
//
// A shape is written KIND:ARGS, one of
//
//	const:5000                           5000 throughout
//	step:1000,5000,10000@10s             each value for 10 s in turn
//	step:1000@5s,5000@20s                each value for its own duration
//	ramp:1000->20000:30s                 linear from 1000 to 20000 over 30 s
//	ramp:0->5000:10s,5000->5000:20s      ramps in turn (k6's stages)
//	sine:mean=5000,amp=3000,period=20s   5000 + 3000·sin(2πt/20s)
//
// Durations are seconds ("10", "2.5") or Go durations ("10s", "1m30s").
// After the last step or ramp the last value holds; const and sine never
// end. Entry points: Parse, and a Shape's At, Integral, Inverse and Mean.
package shape
