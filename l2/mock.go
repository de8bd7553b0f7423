package l2

import (
	"errors"
	"sync"
	"time"
)

// mockAdapter is LMCache's mock adapter: keys live in memory, capacity
// max_size_gb, and every transfer takes bytes / mock_bandwidth_gb seconds of
// a bandwidth shared by all workers (one virtual clock), so the aggregate
// rate is the configured one however many workers run.
//
// The link is a cumulative schedule: each transfer is booked from where the
// previous one ends (next), and its worker sleeps only until its booked
// end. A timer that fires late therefore delays nobody's later booking;
// the next sleep is shorter by as much. Only real idle time is skipped:
// once no transfer is in progress, the time from the last one's return
// (idleAt) to the next request is not booked, so idle periods (between
// rounds, a worker that is slower than the link) are not banked as credit.
type mockAdapter struct {
	mu       sync.Mutex
	data     map[uint64][]byte
	used     int64
	capacity int64
	bw       float64 // bytes per second

	clockMu sync.Mutex
	next    time.Time // when the link's last booked transfer ends
	idleAt  time.Time // when the last transfer in progress returned
	active  int       // transfers booked and not yet returned
	stop    chan struct{}
	once    sync.Once
}

// maxMockLag bounds how far behind the clock the schedule may fall (a
// stopped process, copies slower than the link): at most that much is made
// up later as a burst.
const maxMockLag = 50 * time.Millisecond

var errMockFull = errors.New("store: mock adapter capacity (max_size_gb) exhausted")

func newMock(s Spec) *mockAdapter {
	now := time.Now()
	return &mockAdapter{
		data:     map[uint64][]byte{},
		capacity: int64(s.MaxSizeGB * (1 << 30)),
		bw:       s.MockBandwidthGB * (1 << 30),
		next:     now,
		idleAt:   now,
		stop:     make(chan struct{}),
	}
}

// book reserves n bytes of the link and returns when that transfer ends.
// Every booking must be followed by one wait.
func (m *mockAdapter) book(n int) time.Time {
	d := time.Duration(float64(n) / m.bw * 1e9)
	m.clockMu.Lock()
	defer m.clockMu.Unlock()
	now := time.Now()
	start := m.next
	if m.active == 0 {
		// The link is idle since the last transfer returned: that gap is
		// real (the caller's own time) and is not booked. Between m.next
		// and m.idleAt that transfer's timer overshot: that stays booked.
		if idle := now.Sub(later(m.next, m.idleAt)); idle > 0 {
			start = start.Add(idle)
		}
	}
	if lag := now.Sub(start); lag > maxMockLag {
		start = now.Add(-maxMockLag)
	}
	m.next = start.Add(d)
	m.active++
	return m.next
}

// wait sleeps until a booked transfer's end (or an Interrupt) and marks it
// returned.
func (m *mockAdapter) wait(end time.Time) {
	if d := time.Until(end); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-m.stop:
			t.Stop()
		}
	}
	m.clockMu.Lock()
	if m.active--; m.active == 0 {
		m.idleAt = time.Now()
	}
	m.clockMu.Unlock()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Store keeps a copy of buf. The key is claimed (and the capacity taken)
// before the copy, so a concurrent store of the same key is Skipped; the
// copy happens inside the transfer's booked time.
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
	end := m.book(len(buf))
	v := append([]byte(nil), buf...)
	m.mu.Lock()
	m.data[idx] = v
	m.mu.Unlock()
	m.wait(end)
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
	end := m.book(min(len(v), len(buf)))
	n := copy(buf, v)
	m.wait(end)
	if n != len(buf) {
		return Outcome{Status: Failed, Bytes: n, Err: errShortRead}
	}
	return Outcome{Status: OK, Bytes: n}
}

// Interrupt ends every simulated transfer now (Ctrl-C).
func (m *mockAdapter) Interrupt() { m.once.Do(func() { close(m.stop) }) }

func (m *mockAdapter) Close() error { m.Interrupt(); return nil }
