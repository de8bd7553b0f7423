package l2

import (
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// mockAdapter is LMCache's mock adapter: keys live in memory, capacity
// max_size_gb, and every transfer (the copy of a store or a load) finishes
// on one link of mock_bandwidth_gb that all workers share (see link).
type mockAdapter struct {
	mu       sync.Mutex
	data     map[uint64][]byte
	used     int64
	capacity int64
	link     *link
}

var errMockFull = errors.New("store: mock adapter capacity (max_size_gb) exhausted")

func newMock(s Spec) *mockAdapter {
	return &mockAdapter{
		data:     map[uint64][]byte{},
		capacity: int64(s.MaxSizeGB * (1 << 30)),
		link:     newLink(s.MockBandwidthGB * (1 << 30)),
	}
}

// link is a shared link of a fixed bandwidth, kept as a token bucket that
// is read when a transfer finishes: the bucket fills at the bandwidth and
// holds at most the bytes of the largest transfer so far, and a transfer of
// n bytes finishes only once n bytes are in it, and takes them out, under
// mu, at the time read there. So the bytes of the transfers that finish in
// any window of time W are at most bandwidth·W plus one transfer, however
// late timers fire or workers run: a transfer that finished late (a late
// timer, a copy slower than the link, an idle link) lets the next one
// finish earlier by at most one transfer's time, and nothing more is
// banked.
//
// The bucket is kept as a time, tat: it holds (now − tat) × bandwidth
// bytes, capped at depth × bandwidth. booked is the same schedule for the
// transfers asked for so far: each waits until its place in it and only
// then asks the bucket, so the waits of concurrent transfers run side by
// side and no transfer waits for another's wakeup.
type link struct {
	mu     sync.Mutex
	bw     float64 // bytes per second
	depth  time.Duration
	tat    time.Time
	booked time.Time
	stop   chan struct{}
	once   sync.Once
}

func newLink(bw float64) *link {
	now := time.Now()
	return &link{bw: bw, tat: now, booked: now, stop: make(chan struct{})}
}

// duration is how long n bytes take on the link, rounded up to a
// nanosecond (and capped far beyond any run).
func (l *link) duration(n int) time.Duration {
	return time.Duration(min(math.Ceil(float64(n)/l.bw*1e9), math.MaxInt64/4))
}

// advance asks, at now, to finish a transfer of duration d. It reports the
// time the transfer is due and whether it finished (due ≤ now; the bucket
// then gives up its bytes). A transfer longer than any before raises the
// bucket's depth to its own bytes.
func (l *link) advance(now time.Time, d time.Duration) (due time.Time, done bool) {
	l.depth = max(l.depth, d)
	due = later(l.tat, now.Add(-l.depth)).Add(d)
	if due.After(now) {
		return due, false
	}
	l.tat = due
	return due, true
}

// book gives a transfer of duration d, asked for at now, its place in the
// schedule: when it is due if every transfer booked before it finishes on
// time.
func (l *link) book(now time.Time, d time.Duration) time.Time {
	l.depth = max(l.depth, d)
	l.booked = later(l.booked, now.Add(-l.depth)).Add(d)
	return l.booked
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// finish returns once a transfer of n bytes has finished on the link, or
// at once after Interrupt.
func (l *link) finish(n int) {
	d := l.duration(n)
	l.mu.Lock()
	due := l.book(time.Now(), d)
	l.mu.Unlock()
	for l.sleepUntil(due) {
		l.mu.Lock()
		var done bool
		due, done = l.advance(time.Now(), d)
		l.mu.Unlock()
		if done {
			return
		}
	}
}

// sleepUntil sleeps until t and reports false if Interrupt was called.
// The sleep is a nanosleep on the caller's thread (an I/O worker's, as a
// pread would block it), not a Go timer: the runtime wakes timers with a
// millisecond's granularity, and a link that lets only one transfer
// through ahead of time cannot make that up for transfers shorter than
// it. It sleeps at most maxLinkSleep at a time, looking for an Interrupt
// in between.
func (l *link) sleepUntil(t time.Time) bool {
	for {
		select {
		case <-l.stop:
			return false
		default:
		}
		d := time.Until(t)
		if d <= 0 {
			return true
		}
		ts := unix.NsecToTimespec(int64(min(d, maxLinkSleep)))
		_ = unix.Nanosleep(&ts, nil) // EINTR: the loop looks again
	}
}

// maxLinkSleep is the longest sleep between two looks for an Interrupt.
const maxLinkSleep = 5 * time.Millisecond

// interrupt ends every wait on the link now, and every later one.
func (l *link) interrupt() { l.once.Do(func() { close(l.stop) }) }

// Store keeps a copy of buf. The key is claimed (and the capacity taken)
// before the copy, so a concurrent store of the same key is Skipped; the
// transfer finishes on the link after the copy.
func (m *mockAdapter) Store(_ *Scratch, idx uint64, buf []byte) Outcome {
	m.mu.Lock()
	if _, ok := m.data[idx]; ok {
		m.mu.Unlock()
		return Outcome{Status: Skipped}
	}
	if m.used+int64(len(buf)) > m.capacity {
		m.mu.Unlock()
		return Outcome{Status: Failed, Err: errMockFull}
	}
	m.used += int64(len(buf))
	m.data[idx] = nil
	m.mu.Unlock()
	v := append([]byte(nil), buf...)
	m.mu.Lock()
	m.data[idx] = v
	m.mu.Unlock()
	m.link.finish(len(buf))
	return Outcome{Status: OK, Bytes: len(buf)}
}

func (m *mockAdapter) Lookup(_ *Scratch, idx uint64) Outcome {
	m.mu.Lock()
	_, ok := m.data[idx]
	m.mu.Unlock()
	if ok {
		return Outcome{Status: OK}
	}
	return Outcome{Status: Missing}
}

var errMockMissing = errors.New("load: key not in the mock adapter")

func (m *mockAdapter) Load(_ *Scratch, idx uint64, buf []byte) Outcome {
	m.mu.Lock()
	v, ok := m.data[idx]
	m.mu.Unlock()
	if !ok {
		return Outcome{Status: Failed, Err: errMockMissing}
	}
	n := copy(buf, v)
	m.link.finish(n)
	if n != len(buf) {
		return Outcome{Status: Failed, Bytes: n, Err: errShortRead}
	}
	return Outcome{Status: OK, Bytes: n}
}

// Interrupt ends every simulated transfer now (Ctrl-C).
func (m *mockAdapter) Interrupt() { m.link.interrupt() }

func (m *mockAdapter) Close() error { m.Interrupt(); return nil }
