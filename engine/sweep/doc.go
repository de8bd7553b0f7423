// Package sweep plans a capacity sweep: the steps of `--sweep` (a rate or
// a concurrency per step) and, with an SLO, the bisection that narrows the
// highest passing rate down to `--precision`.
//
// A sweep specification is dimension=values, the values one of
//
//	1000,2000,5000      a list, strictly increasing
//	1000:64000:x2       start:end:xFACTOR, a geometric series up to end
//	1000:5000:+1000     start:end:+STEP, an arithmetic series up to end
//
// with dimension rate (requests per second, the open loop's target) or
// concurrency (requests in flight, whole numbers). A series stops at the
// last value not above end.
//
// The Planner hands out the coarse steps in order, stopping after the first
// that fails its SLO; for a rate sweep it then bisects between the highest
// passing and the lowest failing rate (geometric midpoints, since the
// precision is relative) until the failing one is within the precision of
// the passing one. A concurrency sweep is not bisected: its result is the
// passing step that achieved the most. Everything here is pure: the engine
// runs the steps and records their outcomes.
package sweep
