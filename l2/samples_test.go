package l2

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmfast/lmfast/stream"
)

// stallingAdapter is an in-memory adapter for timed-out and interrupted
// rounds: the keys at positions ≥ fast of each submit take slow (a
// stalled device), the others finish at once; the cancelAt-th operation
// (if > 0) first presses Ctrl-C (cancel).
type stallingAdapter struct {
	nk, fast int
	slow     time.Duration
	cancelAt int64
	cancel   func()
	ops      atomic.Int64
}

func (a *stallingAdapter) op(idx uint64, n int) Outcome {
	if a.ops.Add(1) == a.cancelAt {
		a.cancel()
	}
	if int(idx%uint64(a.nk)) >= a.fast {
		time.Sleep(a.slow)
	}
	return Outcome{Status: OK, Bytes: n}
}
func (a *stallingAdapter) Store(_ *Scratch, idx uint64, b []byte) Outcome { return a.op(idx, len(b)) }
func (a *stallingAdapter) Lookup(_ *Scratch, idx uint64) Outcome          { return a.op(idx, 0) }
func (a *stallingAdapter) Load(_ *Scratch, idx uint64, b []byte) Outcome  { return a.op(idx, len(b)) }
func (a *stallingAdapter) Close() error                                   { return nil }

// TestRawSamplesAgreeWithRounds: the --raw samples, the latency histogram
// and the error counts hold exactly the keys of the reported rounds, and
// each round's samples agree with its counts — keys that finished in time
// "ok", the others of a timed-out round "timed_out", so the "ok" samples
// are the successes and the "timed_out"/"failed" samples the failed keys of
// the summary. For timed-out rounds (wave and window) and for runs cut
// short by a Ctrl-C, whose dropped round leaves no key anywhere.
func TestRawSamplesAgreeWithRounds(t *testing.T) {
	const nk = 4
	const stall, timeout = 60 * time.Millisecond, 10 * time.Millisecond
	for _, tc := range []struct {
		mode     Mode
		op       Op
		fast     int           // keys of a submit that finish at once
		slow     time.Duration // how long the others take
		cancelAt int64         // Ctrl-C at this operation (0: none)
		timeout  time.Duration // round timeout (0: LMCache's)
		timedOut bool          // a measured round must have timed out
		dropped  bool          // no round may be reported
	}{
		{Wave, Store, 2, stall, 0, timeout, true, false},
		{Wave, Lookup, 2, stall, 0, timeout, true, false},
		{Wave, Load, 2, stall, 0, timeout, true, false},
		{Window, Store, 2, stall, 0, timeout, true, false},
		{Window, Load, 2, stall, 0, timeout, true, false},
		{Wave, Store, 0, time.Millisecond, 30, 0, false, false},
		{Wave, Load, 0, time.Millisecond, 30, 0, false, false},
		{Window, Store, 0, time.Millisecond, 30, 0, false, false},
		{Window, Load, 0, time.Millisecond, 30, 0, false, false},
		// The 4th key (the stalled key 3) starts 60 ms in, 50 ms after the
		// timeout, and presses Ctrl-C: the timed-out round's keys are not
		// all in, so it is dropped, in both modes.
		{Wave, Store, 2, stall, 4, timeout, false, true},
		{Window, Store, 2, stall, 4, timeout, false, true},
	} {
		name := fmt.Sprintf("%s %s", tc.mode, tc.op)
		if tc.timeout > 0 {
			name += " timeout"
		}
		if tc.cancelAt > 0 {
			name += " ctrl-c"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a := &stallingAdapter{nk: nk, fast: tc.fast, slow: tc.slow, cancelAt: tc.cancelAt, cancel: cancel}
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
			cfg.newAdapter = func(Spec, Options) (Adapter, error) { return a, nil }
			cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.Raw = []Op{tc.op}, 10, 0, true
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = nk, 2, 4096, 1
			cfg.Mode, cfg.Duration = tc.mode, time.Hour
			if tc.timeout > 0 {
				cfg.Rounds, cfg.Duration = 2, time.Second
				cfg.StoreLoadTimeout, cfg.LookupTimeout = tc.timeout, tc.timeout
			}
			var buf bytes.Buffer
			res, err := Run(ctx, cfg, stream.New(&buf, "l2", "t"))
			if err != nil {
				t.Fatal(err)
			}
			o := res.Ops[0]
			type counts struct{ ok, failed, missing int }
			perRound := map[int]*counts{}
			samples := 0
			for _, l := range lines(t, buf.Bytes()) {
				if l["event"] != "sample" {
					continue
				}
				samples++
				rd := int(l["round"].(float64))
				if perRound[rd] == nil {
					perRound[rd] = &counts{}
				}
				c := perRound[rd]
				switch l["status"] {
				case "ok", "skipped":
					c.ok++
				case "timed_out", "failed", "cancelled":
					c.failed++
				case "missing":
					c.missing++
				default:
					t.Fatalf("sample status %v", l["status"])
				}
			}
			timedOut, keys := 0, 0
			for _, r := range o.Measured() {
				c := perRound[r.Number]
				if c == nil {
					t.Fatalf("round %d: no samples", r.Number)
				}
				delete(perRound, r.Number)
				if c.ok != r.Success || c.failed != r.Failed || c.missing != r.Missing || c.ok+c.failed+c.missing != r.Keys {
					t.Errorf("round %d (timed out %v): success %d failed %d missing %d of %d keys; samples %+v",
						r.Number, r.TimedOut, r.Success, r.Failed, r.Missing, r.Keys, *c)
				}
				timedOut += b2i(r.TimedOut)
				keys += r.Keys
			}
			for rd, c := range perRound {
				t.Errorf("%d samples of round %d, which is not reported", c.ok+c.failed+c.missing, rd)
			}
			var errs int64
			for _, e := range o.Errors {
				errs += e.Count
			}
			st := Stats(o, cfg)
			t.Logf("%d measured rounds (%d timed out), %d keys; %d samples, %d in the latency histogram, %d errors for %d failed",
				len(o.Measured()), timedOut, keys, samples, o.Latency.TotalCount(), errs, st.Failed)
			if samples != keys || o.Latency.TotalCount() != int64(keys) || o.Service.TotalCount() != int64(keys) || errs != int64(st.Failed) {
				t.Fatalf("%d keys in the reported rounds; %d samples, %d and %d in the histograms, %d errors for %d failed keys",
					keys, samples, o.Latency.TotalCount(), o.Service.TotalCount(), errs, st.Failed)
			}
			if tc.timedOut && timedOut == 0 || tc.cancelAt > 0 && !res.Interrupted || tc.dropped != (keys == 0) {
				t.Fatalf("%d timed-out rounds, interrupted %v, %d keys: not the case under test", timedOut, res.Interrupted, keys)
			}
		})
	}
}

// TestSampleBytesAddUpToRounds: for every reported measured round, the
// bytes of its --raw samples add up to the round's bytes (its round line
// and Round.Bytes), and over the rounds to the summary's
// bytes_transferred. A key that finished after its round timed out says
// bytes 0 and what it really moved as late_bytes (here the whole
// payload); no other sample has late_bytes.
func TestSampleBytesAddUpToRounds(t *testing.T) {
	const nk, payload = 4, 4096
	for _, tc := range []struct {
		mode    Mode
		op      Op
		timeout time.Duration // 0: LMCache's, no round times out
	}{
		{Wave, Store, 10 * time.Millisecond},
		{Wave, Load, 10 * time.Millisecond},
		{Window, Store, 10 * time.Millisecond},
		{Window, Load, 10 * time.Millisecond},
		{Wave, Load, 0},
		{Window, Store, 0},
	} {
		name := fmt.Sprintf("%s %s", tc.mode, tc.op)
		if tc.timeout > 0 {
			name += " timeout"
		}
		t.Run(name, func(t *testing.T) {
			// Keys 6 and 7 of every 8 stall: a wave round (8 keys) has 6
			// in time and 2 late; in window mode submit 0 (keys 0-3)
			// completes in time and submit 1 (keys 4-7) after the timeout.
			a := &stallingAdapter{nk: 2 * nk, fast: 6, slow: 60 * time.Millisecond}
			if tc.timeout == 0 {
				a.fast = 2 * nk
			}
			cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`)
			cfg.newAdapter = func(Spec, Options) (Adapter, error) { return a, nil }
			cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.Raw = []Op{tc.op}, 2, 1, true
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = nk, 2, payload, 2
			cfg.Mode, cfg.Duration = tc.mode, 50*time.Millisecond
			if tc.timeout > 0 {
				cfg.Warmup, cfg.Duration = 0, time.Second
				cfg.StoreLoadTimeout = tc.timeout
			}
			var buf bytes.Buffer
			res, err := Run(context.Background(), cfg, stream.New(&buf, "l2", "t"))
			if err != nil {
				t.Fatal(err)
			}
			o := res.Ops[0]
			sampleBytes := map[int]int64{} // per round
			lineBytes := map[int]int64{}
			late, lateBytes := 0, int64(0)
			for _, l := range lines(t, buf.Bytes()) {
				rd := int(num(l["round"]))
				switch l["event"] {
				case "round":
					lineBytes[rd] = int64(num(l["bytes"]))
				case "sample":
					sampleBytes[rd] += int64(num(l["bytes"]))
					lb, has := l["late_bytes"]
					if has != (l["status"] == "timed_out") {
						t.Errorf("sample %v: late_bytes only, and always, on timed_out keys", l)
					}
					if has {
						late++
						lateBytes += int64(num(lb))
						if num(l["bytes"]) != 0 || num(lb) != payload {
							t.Errorf("timed_out sample %v: want bytes 0, late_bytes %d", l, payload)
						}
					}
				}
			}
			var sum int64
			timedOut := 0
			for _, r := range o.Measured() {
				if sampleBytes[r.Number] != r.Bytes || lineBytes[r.Number] != r.Bytes {
					t.Errorf("round %d (timed out %v): %d bytes, its round line %d, its samples %d",
						r.Number, r.TimedOut, r.Bytes, lineBytes[r.Number], sampleBytes[r.Number])
				}
				sum += sampleBytes[r.Number]
				timedOut += b2i(r.TimedOut)
			}
			summary := entries(Document(res, Judge(res).Status())[1])["bytes_transferred"]
			t.Logf("%d measured rounds (%d timed out), samples %d bytes, summary %v; %d late keys, %d late bytes",
				len(o.Measured()), timedOut, sum, summary, late, lateBytes)
			if summary != sum || Stats(o, cfg).Bytes != sum || sum == 0 {
				t.Fatalf("samples of the measured rounds add up to %d bytes, bytes_transferred %v", sum, summary)
			}
			if (tc.timeout > 0) != (timedOut > 0 && late > 0) {
				t.Fatalf("%d timed-out rounds, %d late keys: not the case under test", timedOut, late)
			}
		})
	}
}

// num is a JSON number as a float64 (0 if absent).
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
