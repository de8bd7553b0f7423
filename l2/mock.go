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
type mockAdapter struct {
	mu       sync.Mutex
	data     map[uint64][]byte
	used     int64
	capacity int64
	bw       float64 // bytes per second

	clockMu sync.Mutex
	next    time.Time // when the shared link is free again
	stop    chan struct{}
	once    sync.Once
}

var errMockFull = errors.New("store: mock adapter capacity (max_size_gb) exhausted")

func newMock(s Spec) *mockAdapter {
	return &mockAdapter{
		data:     map[uint64][]byte{},
		capacity: int64(s.MaxSizeGB * (1 << 30)),
		bw:       s.MockBandwidthGB * (1 << 30),
		stop:     make(chan struct{}),
	}
}

// pace blocks until n more bytes have crossed the simulated link.
func (m *mockAdapter) pace(n int) {
	d := time.Duration(float64(n) / m.bw * 1e9)
	m.clockMu.Lock()
	now := time.Now()
	if m.next.Before(now) {
		m.next = now
	}
	m.next = m.next.Add(d)
	wait := m.next.Sub(now)
	m.clockMu.Unlock()
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	select {
	case <-t.C:
	case <-m.stop:
		t.Stop()
	}
}

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
	m.data[idx] = append([]byte(nil), buf...)
	m.mu.Unlock()
	m.pace(len(buf))
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
	m.pace(n)
	if n != len(buf) {
		return Outcome{Status: Failed, Bytes: n, Err: errShortRead}
	}
	return Outcome{Status: OK, Bytes: n}
}

// Interrupt ends every simulated transfer now (Ctrl-C).
func (m *mockAdapter) Interrupt() { m.once.Do(func() { close(m.stop) }) }

func (m *mockAdapter) Close() error { m.Interrupt(); return nil }
