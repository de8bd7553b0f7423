package l2

import (
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// span is one transfer as a test saw it on its own clock: asked for at
// from, returned at to, n bytes. The transfer finished somewhere in
// between.
type span struct {
	from, to time.Time
	n        int
}

// spans collects the spans of concurrent transfers.
type spans struct {
	mu  sync.Mutex
	all []span
}

func (s *spans) add(from time.Time, n int) {
	to := time.Now()
	s.mu.Lock()
	s.all = append(s.all, span{from, to, n})
	s.mu.Unlock()
}

// recordingAdapter wraps an adapter and records the span of every
// transfer (store or load) that succeeded, and how many were inside the
// adapter at once.
type recordingAdapter struct {
	Adapter
	spans             spans
	inside, maxInside atomic.Int64
}

func (a *recordingAdapter) enter() time.Time {
	n := a.inside.Add(1)
	raiseTo(&a.maxInside, n)
	return time.Now()
}

func (a *recordingAdapter) leave(from time.Time, o Outcome) {
	if o.Status == OK {
		a.spans.add(from, o.Bytes)
	}
	a.inside.Add(-1)
}

func (a *recordingAdapter) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	from := a.enter()
	o := a.Adapter.Store(s, idx, buf)
	a.leave(from, o)
	return o
}

func (a *recordingAdapter) Load(s *Scratch, idx uint64, buf []byte) Outcome {
	from := a.enter()
	o := a.Adapter.Load(s, idx, buf)
	a.leave(from, o)
	return o
}

// checkLink asserts the mock's rule on spans recorded with the test's own
// clock: the bytes of the transfers that finish in any window of W seconds
// are at most bw·W plus one transfer. Each transfer finished inside its
// span, so the transfers whose spans lie inside [a, b] all finished inside
// it; the tightest such windows start where a transfer was asked for and
// end where one returned, and every one of them is checked. A slow or
// loaded machine only widens spans, so the check cannot fail by bad luck.
// It returns the highest rate, as a fraction of bw, over the windows of at
// least 10 ms and 10 transfers (for the log).
func checkLink(t *testing.T, all []span, bw float64) (peak float64) {
	t.Helper()
	if len(all) == 0 {
		t.Fatal("no transfer recorded")
	}
	one := 0
	byTo := make([]int, len(all))
	for i, s := range all {
		one = max(one, s.n)
		byTo[i] = i
	}
	minW := max(0.01, 10*float64(one)/bw)
	sort.Slice(byTo, func(i, j int) bool { return all[byTo[i]].to.Before(all[byTo[j]].to) })
	for _, first := range all {
		a, sum := first.from, 0
		for _, j := range byTo {
			s := all[j]
			if s.from.Before(a) {
				continue
			}
			sum += s.n
			w := s.to.Sub(a).Seconds()
			if limit := bw*w + float64(one); float64(sum) > limit+1 {
				t.Fatalf("%d bytes finished within %v: more than %.0f bytes/s × W + one transfer of %d = %.0f",
					sum, s.to.Sub(a), bw, one, limit)
			}
			if w >= minW {
				peak = max(peak, float64(sum)/w/bw)
			}
		}
	}
	return peak
}

// achieved is the rate of all spans, first ask to last return, as a
// fraction of bw.
func achieved(all []span, bw float64) float64 {
	first, last, bytes := all[0].from, all[0].to, 0
	for _, s := range all {
		if s.from.Before(first) {
			first = s.from
		}
		if s.to.After(last) {
			last = s.to
		}
		bytes += s.n
	}
	return float64(bytes) / last.Sub(first).Seconds() / bw
}

// TestMockNeverExceedsBandwidth: however many workers share the mock's
// link, and whether they idle or are slower than it, the bytes of the
// transfers that finish in any window W are at most bandwidth·W plus one
// transfer. The workers here pause between transfers for a random time of
// up to three transfers, and every 100 transfers for 20 ms.
func TestMockNeverExceedsBandwidth(t *testing.T) {
	const payload = 32 << 10
	const gb = 0.0625 // 64 MiB/s: 32 KiB in 0.49 ms
	for _, tc := range []struct {
		name    string
		workers int
		load    bool
	}{
		{"store, 1 worker", 1, false},
		{"store, 4 workers", 4, false},
		{"load, 1 worker", 1, true},
		{"load, 4 workers", 4, true},
		{"load, 16 workers", 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 320 / tc.workers // keys per worker
			m := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: gb})
			defer m.Close()
			if tc.load { // the keys, stored at full speed
				fast := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: 1e6})
				for i := 0; i < n*tc.workers; i++ {
					fast.Store(nil, uint64(i), make([]byte, payload))
				}
				m.data = fast.data
			}
			var rec spans
			var wg sync.WaitGroup
			for w := 0; w < tc.workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					buf := make([]byte, payload)
					for i := 0; i < n; i++ {
						idx := uint64(w*n + i)
						from := time.Now()
						var o Outcome
						if tc.load {
							o = m.Load(nil, idx, buf)
						} else {
							o = m.Store(nil, idx, buf)
						}
						if o.Status != OK {
							t.Errorf("key %d: %+v", idx, o)
							return
						}
						rec.add(from, o.Bytes)
						pause := time.Duration(rand.Int64N(int64(1500 * time.Microsecond)))
						if (w*n+i)%100 == 99 {
							pause = 20 * time.Millisecond
						}
						time.Sleep(pause)
					}
				}(w)
			}
			wg.Wait()
			peak := checkLink(t, rec.all, m.link.bw)
			t.Logf("%d transfers of %d bytes: %.3f of the configured bandwidth overall, at most %.3f over windows of 10 ms and 10 transfers or more",
				len(rec.all), payload, achieved(rec.all, m.link.bw), peak)
		})
	}
}

// TestMockBanksNoIdleTime: neither time the link sat idle nor time a
// worker spent copying slower than the link is credit. Stores into new
// memory at 1 GiB/s (256 KiB each: their copies fault in pages and are
// slower than the link), an idle gap, then loads by 4 workers, whose
// copies are faster than the link: over every window of the whole
// sequence, bytes finished ≤ bandwidth·W + one transfer. Banked, the
// loads after the stores run at the speed of memcpy.
func TestMockBanksNoIdleTime(t *testing.T) {
	const payload, keys, workers = 256 << 10, 96, 4
	m := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: 1})
	defer m.Close()
	var rec spans
	src := make([]byte, payload)
	for i := 0; i < keys; i++ {
		from := time.Now()
		if o := m.Store(nil, uint64(i), src); o.Status != OK {
			t.Fatalf("store %d: %+v", i, o)
		}
		rec.add(from, payload)
	}
	time.Sleep(30 * time.Millisecond) // the link idles
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, payload)
			for i := w; i < keys; i += workers {
				from := time.Now()
				if o := m.Load(nil, uint64(i), buf); o.Status != OK {
					t.Errorf("load %d: %+v", i, o)
					return
				}
				rec.add(from, payload)
			}
		}(w)
	}
	wg.Wait()
	peak := checkLink(t, rec.all, m.link.bw)
	t.Logf("%d transfers: at most %.3f of the configured bandwidth over windows of 10 ms and 10 transfers or more", len(rec.all), peak)
}

// TestMockLinkSchedule: the link's arithmetic on made-up times. A worker
// that asks for its next transfer a little (less than one transfer) after
// the previous one finished loses no bandwidth: that time is what the
// bucket holds. A transfer that finishes late (a late timer) is not made
// up: the next one finishes a whole transfer after it, as two finishes
// closer together would exceed bandwidth·W plus one transfer. An idle link
// lets exactly one transfer through at once; the next waits its full time.
func TestMockLinkSchedule(t *testing.T) {
	const d = time.Millisecond
	const n = 1000
	l := newLink(1e6) // 1 MB/s: n bytes in d
	if got := l.duration(n); got != d {
		t.Fatalf("%d bytes take %v at 1 MB/s, want %v", n, got, d)
	}
	t0 := time.Unix(1000, 0)
	l.tat = t0
	// finish asks at now, sleeps until due as often as needed and returns
	// when the transfer finished, late by the given time after each sleep.
	finish := func(now time.Time, late time.Duration) time.Time {
		for {
			due, done := l.advance(now, l.duration(n))
			if done {
				return now
			}
			now = due.Add(late)
		}
	}
	// One worker asking again 0.7 ms after each finish, timers on time:
	// finishes 1 ms apart.
	at := finish(t0, 0)
	for i := 1; i < 10; i++ {
		next := finish(at.Add(700*time.Microsecond), 0)
		if next.Sub(at) != d {
			t.Fatalf("transfer %d finished %v after the previous one, want %v", i, next.Sub(at), d)
		}
		at = next
	}
	// Timers 0.4 ms late: each finish is late, and the next is a full
	// transfer after it.
	for i := 0; i < 5; i++ {
		next := finish(at, 400*time.Microsecond)
		if next.Sub(at) != d+400*time.Microsecond {
			t.Fatalf("late transfer %d finished %v after the previous one, want %v", i, next.Sub(at), d+400*time.Microsecond)
		}
		at = next
	}
	// An idle second: one transfer at once, the next a full transfer later.
	at = at.Add(time.Second)
	if got := finish(at, 0); !got.Equal(at) {
		t.Fatalf("after an idle link the first transfer waited %v", got.Sub(at))
	}
	if got := finish(at, 0); got.Sub(at) != d {
		t.Fatalf("after an idle link the second transfer waited %v, want %v", got.Sub(at), d)
	}
	// A larger transfer raises what an idle link lets through to its size.
	at = at.Add(time.Second)
	if due, done := l.advance(at, 3*d); !done || !due.Equal(at) {
		t.Fatalf("a transfer 3 times the largest so far is due %v after it asked on an idle link, want at once", due.Sub(at))
	}
	// Bookings follow the same schedule: two asked for at once on an idle
	// link are due at once and one transfer later.
	l = newLink(1e6)
	l.booked = t0
	at = t0.Add(time.Second)
	if b1, b2 := l.book(at, d), l.book(at, d); !b1.Equal(at) || b2.Sub(at) != d {
		t.Fatalf("bookings on an idle link due after %v and %v, want 0 and %v", b1.Sub(at), b2.Sub(at), d)
	}
}

// TestMockWaveRoundsNeverAboveBandwidth: LMCache's per-round throughput of
// a wave run on the mock is at most the configured bandwidth times
// K/(K−1): a round's K transfers all finish between its first submit and
// its last completion, and the link lets at most bandwidth·W plus one
// transfer through. The lower side, how close the rate comes to the
// bandwidth, depends on the machine: BenchmarkMockBandwidth.
func TestMockWaveRoundsNeverAboveBandwidth(t *testing.T) {
	const gb = 0.0625
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.0625}`)
	cfg.Ops, cfg.Rounds, cfg.Warmup = []Op{Store, Load}, 4, 1
	cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.IOWorkers = 40, 2, 32<<10, 2 // 80 keys, ~40 ms a round
	res, _ := runCfg(t, cfg)
	k := float64(cfg.KeysPerRound())
	for _, o := range res.Ops {
		st := Stats(o, cfg)
		ratio := st.TputMax * MB / (gb * (1 << 30))
		t.Logf("%s: %.2f MB/s on average, %.2f at most: %.3f of the configured bandwidth", o.Op, st.TputAvg, st.TputMax, ratio)
		if st.Failed != 0 || ratio > k/(k-1)+1e-9 {
			t.Fatalf("%s: %d failed, fastest round at %.4f of the configured bandwidth, want at most %.4f", o.Op, st.Failed, ratio, k/(k-1))
		}
	}
}

// BenchmarkMockBandwidth reports how much of its configured bandwidth the
// mock delivers to 1 and to 4 workers doing nothing else (the mock's upper
// bound is a test; how close it comes depends on timers and the machine).
func BenchmarkMockBandwidth(b *testing.B) {
	const payload = 32 << 10
	for _, workers := range []int{1, 4} {
		b.Run(map[int]string{1: "1 worker", 4: "4 workers"}[workers], func(b *testing.B) {
			m := newMock(Spec{MaxSizeGB: 1, MockBandwidthGB: 0.0625})
			defer m.Close()
			b.SetBytes(payload)
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, payload)
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						m.Store(nil, uint64(i), buf)
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*payload)/time.Since(start).Seconds()/m.link.bw, "of-configured")
		})
	}
}
