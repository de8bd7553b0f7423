package calibrate

import (
	"context"
	"fmt"
	"slices"
)

// Traffic is the lmfast traffic a calibration measures: the admit batch
// (SampleBatch), the p2p lookup and its reply (SampleLookup) and the
// engine's runs of both.
type Traffic struct {
	BatchSize int    // KV operations per BatchedKVOperationMsg
	NumKeys   int    // key space of the batch and the lookups
	NumHashes int    // hashes per BatchedP2PLookupMsg
	Lanes     int    // round trips in flight per sender
	Seed      uint64 // seed of the batch's keys and the engine's runs
}

// Step is one measurement of a Plan.
type Step struct {
	Kind      string // KindPush, KindEnginePush, KindRoundTrip or KindEngineRoundTrip
	Transport string
	payload   []byte // KindPush: what is sent
}

// Plan lists the measurements of `lmfast calibrate`, per transport in this
// order: raw PUSH of the batch, the engine's push (withEngine), raw PUSH of
// a payload of each of sizes bytes, the raw round trip, and the engine's
// round trip (withEngine). Each engine step comes after the raw step it is
// compared with (Summarize).
func Plan(transports []string, sizes []int, withEngine bool, t Traffic) []Step {
	batch := SampleBatch(t.BatchSize, t.NumKeys, t.Seed)
	var plan []Step
	for _, tr := range transports {
		plan = append(plan, Step{Kind: KindPush, Transport: tr, payload: batch})
		if withEngine {
			plan = append(plan, Step{Kind: KindEnginePush, Transport: tr})
		}
		for _, n := range sizes {
			plan = append(plan, Step{Kind: KindPush, Transport: tr, payload: filler(n)})
		}
		plan = append(plan, Step{Kind: KindRoundTrip, Transport: tr})
		if withEngine {
			plan = append(plan, Step{Kind: KindEngineRoundTrip, Transport: tr})
		}
	}
	return plan
}

// Measure takes step s with c's senders over s's transport.
func (s Step) Measure(ctx context.Context, c Common, t Traffic) (Measurement, error) {
	c.Transport = s.Transport
	switch s.Kind {
	case KindPush:
		return Push(ctx, c, s.payload)
	case KindEnginePush:
		return EnginePush(ctx, c, t.BatchSize, t.NumKeys, t.Seed)
	case KindRoundTrip:
		request, reply := SampleLookup(t.NumHashes, t.NumKeys)
		return RoundTrip(ctx, c, t.Lanes, request, reply)
	case KindEngineRoundTrip:
		return EngineRoundTrip(ctx, c, t.Lanes, t.NumHashes, t.NumKeys, t.Seed)
	}
	return Measurement{Kind: s.Kind, Transport: s.Transport}, fmt.Errorf("unknown measurement kind %q", s.Kind)
}

// StepError is a measurement of a Plan that failed.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("calibrate %s over %s: %v", e.Step.Kind, e.Step.Transport, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Rounds takes every step of plan, in order, rounds times, and calls each
// (if set) after every measurement. It returns per step the measurements
// of the rounds that completed it. It stops early when ctx ends (the
// measurement cut short is dropped: it is not a result) or at the first
// failed measurement, returned as a *StepError with what was measured
// before it.
func Rounds(ctx context.Context, c Common, t Traffic, plan []Step, rounds int,
	each func(round int, m Measurement)) ([][]Measurement, error) {
	results := make([][]Measurement, len(plan))
	for round := 1; round <= rounds; round++ {
		for i, s := range plan {
			if ctx.Err() != nil {
				return results, nil
			}
			m, err := s.Measure(ctx, c, t)
			if ctx.Err() != nil {
				return results, nil
			}
			if err != nil {
				return results, &StepError{Step: s, Err: err}
			}
			results[i] = append(results[i], m)
			if each != nil {
				each(round, m)
			}
		}
	}
	return results, nil
}

// Summary is one step's rates over its rounds.
type Summary struct {
	Kind, Transport       string
	Bytes, Senders, Lanes int // of the step's first measurement
	Rounds                int
	Median, Min, Max      float64 // rate, messages per second
	VsRaw                 *Ratio  // engine steps: their rates over the raw step's
}

// Ratio compares an engine step with the raw step of the same traffic
// (the transport's batch PUSH, or its raw round trip), round by round.
type Ratio struct {
	Measure  string    // "push" or "round_trip"
	RawBytes int       // payload bytes of the raw step
	Ratios   []float64 // engine rate / raw rate of each round both completed
	Median   float64
}

// Summarize condenses Rounds' results: a Summary per step with at least
// one measurement, in plan order. An engine step's VsRaw pairs its rounds
// with those of the raw step it follows in plan (the transport's first
// PUSH, which is the batch, or its round trip); it is nil when no round
// has a raw rate to divide by.
func Summarize(plan []Step, results [][]Measurement) []Summary {
	var out []Summary
	raw := map[string][]Measurement{} // transport/measure → raw results
	for i, p := range plan {
		ms := results[i]
		if len(ms) == 0 {
			continue
		}
		rates := make([]float64, len(ms))
		for j, m := range ms {
			rates[j] = m.Rate
		}
		m := ms[0]
		s := Summary{Kind: m.Kind, Transport: m.Transport, Bytes: m.Bytes, Senders: m.Senders, Lanes: m.Lanes,
			Rounds: len(ms), Median: median(rates), Min: slices.Min(rates), Max: slices.Max(rates)}
		measure := "push"
		switch p.Kind {
		case KindPush:
			if raw[p.Transport+"/push"] == nil {
				raw[p.Transport+"/push"] = ms // the first push of a transport is the batch
			}
			out = append(out, s)
			continue
		case KindRoundTrip:
			raw[p.Transport+"/round_trip"] = ms
			out = append(out, s)
			continue
		case KindEngineRoundTrip:
			measure = "round_trip"
		}
		base := raw[p.Transport+"/"+measure]
		var ratios []float64
		for j := 0; j < len(ms) && j < len(base); j++ {
			if base[j].Rate > 0 {
				ratios = append(ratios, ms[j].Rate/base[j].Rate)
			}
		}
		if len(ratios) > 0 {
			s.VsRaw = &Ratio{Measure: measure, RawBytes: base[0].Bytes, Ratios: ratios, Median: median(ratios)}
		}
		out = append(out, s)
	}
	return out
}

// median is the middle value of v (the mean of the two middle ones for
// an even count); v must not be empty.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// filler is an n-byte payload for the size sweep (libzmq does not look
// inside messages; msgpack-valid bytes are not needed).
func filler(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
