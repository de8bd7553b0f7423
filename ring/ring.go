package ring

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// cacheLine is the padding unit that keeps the producer's and the
// consumer's hot indexes on separate cache lines.
const cacheLine = 64

// ErrClosed is returned by Pop once the producer closed the ring and every
// published slot was consumed.
var ErrClosed = errors.New("ring: closed")

// SPSC is a bounded single-producer/single-consumer ring of T.
type SPSC[T any] struct {
	_ [cacheLine]byte
	// producer side
	tail       atomic.Uint64 // next slot to publish
	headCache  uint64        // producer's last view of head
	fullEvents atomic.Uint64
	_          [cacheLine - 24]byte
	// consumer side
	head      atomic.Uint64 // next slot to consume
	tailCache uint64        // consumer's last view of tail
	_         [cacheLine - 16]byte
	closed    atomic.Bool
	mask      uint64
	slots     []T
}

// New returns a ring with capacity slots; capacity must be a power of two
// and at least 1.
func New[T any](capacity int) (*SPSC[T], error) {
	if capacity < 1 || capacity&(capacity-1) != 0 {
		return nil, fmt.Errorf("ring: capacity %d is not a power of two", capacity)
	}
	return &SPSC[T]{mask: uint64(capacity - 1), slots: make([]T, capacity)}, nil
}

// Cap returns the number of slots.
func (r *SPSC[T]) Cap() int { return len(r.slots) }

// Len returns how many published slots wait for the consumer (a snapshot).
func (r *SPSC[T]) Len() int { return int(r.tail.Load() - r.head.Load()) }

// FullEvents counts the times Reserve found the ring full: how often the
// producer had to wait or drop.
func (r *SPSC[T]) FullEvents() uint64 { return r.fullEvents.Load() }

// Reserve returns the next free slot for the producer to fill in place, or
// false when the ring is full. The slot still holds whatever the consumer
// left in it a lap ago (reuse its buffers). Call Publish to hand it over.
func (r *SPSC[T]) Reserve() (*T, bool) {
	t := r.tail.Load()
	if t-r.headCache > r.mask {
		r.headCache = r.head.Load()
		if t-r.headCache > r.mask {
			r.fullEvents.Add(1)
			return nil, false
		}
	}
	return &r.slots[t&r.mask], true
}

// Publish hands the slot returned by the last Reserve to the consumer.
func (r *SPSC[T]) Publish() {
	r.tail.Store(r.tail.Load() + 1)
}

// TryPush copies v into the ring; false when full.
func (r *SPSC[T]) TryPush(v T) bool {
	p, ok := r.Reserve()
	if !ok {
		return false
	}
	*p = v
	r.Publish()
	return true
}

// Peek returns the oldest published slot, or false when the ring is empty.
// The slot stays valid, and must not be retained, until Release.
func (r *SPSC[T]) Peek() (*T, bool) {
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return nil, false
		}
	}
	return &r.slots[h&r.mask], true
}

// Release gives the slot returned by the last Peek back to the producer.
func (r *SPSC[T]) Release() {
	r.head.Store(r.head.Load() + 1)
}

// TryPop copies out and releases the oldest slot; false when empty.
func (r *SPSC[T]) TryPop() (T, bool) {
	p, ok := r.Peek()
	if !ok {
		var zero T
		return zero, false
	}
	v := *p
	r.Release()
	return v, true
}

// Close marks the end of the stream; the producer must not publish after
// it. The consumer still receives every slot published before Close.
func (r *SPSC[T]) Close() { r.closed.Store(true) }

// Closed reports whether the producer called Close.
func (r *SPSC[T]) Closed() bool { return r.closed.Load() }

// Wait is the strategy for a side that found the ring full or empty: spin
// briefly (the other side is usually just about to move), then yield the
// processor, then sleep for growing periods up to 50 µs. Each call performs
// one step; pass the number of failed attempts so far.
func Wait(attempt int) {
	switch {
	case attempt < 64:
		// spin: re-check at once
	case attempt < 128:
		runtime.Gosched()
	default:
		d := time.Duration(attempt-127) * time.Microsecond
		time.Sleep(min(d, 50*time.Microsecond))
	}
}

// Pop waits for and returns the next slot's value. It returns ErrClosed once
// the ring is closed and drained, or ctx's error.
func (r *SPSC[T]) Pop(ctx context.Context) (T, error) {
	for attempt := 0; ; attempt++ {
		if v, ok := r.TryPop(); ok {
			return v, nil
		}
		if r.closed.Load() {
			// Re-check: a slot may have been published just before Close.
			if v, ok := r.TryPop(); ok {
				return v, nil
			}
			var zero T
			return zero, ErrClosed
		}
		if attempt&255 == 255 && ctx.Err() != nil {
			var zero T
			return zero, ctx.Err()
		}
		Wait(attempt)
	}
}

// Push waits for room and copies v in, or returns ctx's error.
func (r *SPSC[T]) Push(ctx context.Context, v T) error {
	for attempt := 0; ; attempt++ {
		if r.TryPush(v) {
			return nil
		}
		if attempt&255 == 255 && ctx.Err() != nil {
			return ctx.Err()
		}
		Wait(attempt)
	}
}
