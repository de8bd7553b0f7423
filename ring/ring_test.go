package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestNewCapacity(t *testing.T) {
	tests := []struct {
		capacity int
		ok       bool
	}{{1, true}, {2, true}, {1024, true}, {0, false}, {-4, false}, {3, false}, {1000, false}}
	for _, tc := range tests {
		r, err := New[int](tc.capacity)
		if (err == nil) != tc.ok {
			t.Errorf("New(%d) err = %v, want ok=%v", tc.capacity, err, tc.ok)
		}
		if err == nil && r.Cap() != tc.capacity {
			t.Errorf("Cap() = %d, want %d", r.Cap(), tc.capacity)
		}
	}
}

func TestFullEmptyAndWraparound(t *testing.T) {
	for _, capacity := range []int{1, 2, 8} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			r, _ := New[int](capacity)
			if _, ok := r.TryPop(); ok {
				t.Fatal("pop from empty ring succeeded")
			}
			next, want := 0, 0
			for lap := 0; lap < 100; lap++ {
				for i := 0; i < capacity; i++ {
					if !r.TryPush(next) {
						t.Fatalf("push %d failed with %d queued", next, r.Len())
					}
					next++
				}
				if r.TryPush(-1) {
					t.Fatal("push into a full ring succeeded")
				}
				if r.Len() != capacity {
					t.Fatalf("Len() = %d, want %d", r.Len(), capacity)
				}
				for i := 0; i < capacity; i++ {
					v, ok := r.TryPop()
					if !ok || v != want {
						t.Fatalf("pop = %d,%v want %d", v, ok, want)
					}
					want++
				}
			}
			if r.FullEvents() != 100 {
				t.Fatalf("FullEvents() = %d, want 100", r.FullEvents())
			}
		})
	}
}

func TestSlotsKeepTheirBuffers(t *testing.T) {
	r, _ := New[[]byte](2)
	for lap := 0; lap < 10; lap++ {
		p, ok := r.Reserve()
		if !ok {
			t.Fatal("reserve failed")
		}
		if lap >= 2 && cap(*p) < 100 {
			t.Fatalf("lap %d: slot lost its buffer (cap %d)", lap, cap(*p))
		}
		*p = append((*p)[:0], make([]byte, 100)...)
		r.Publish()
		if _, ok := r.Peek(); !ok {
			t.Fatal("peek failed")
		}
		r.Release()
	}
}

func TestCloseDrainsThenReportsClosed(t *testing.T) {
	r, _ := New[int](4)
	r.TryPush(1)
	r.TryPush(2)
	r.Close()
	ctx := context.Background()
	for _, want := range []int{1, 2} {
		v, err := r.Pop(ctx)
		if err != nil || v != want {
			t.Fatalf("Pop = %d, %v; want %d", v, err, want)
		}
	}
	if _, err := r.Pop(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pop after drain = %v, want ErrClosed", err)
	}
}

func TestPopAndPushHonourContext(t *testing.T) {
	r, _ := New[int](1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Pop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pop on empty ring = %v, want deadline", err)
	}
	r.TryPush(1)
	if err := r.Push(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Push on full ring = %v, want deadline", err)
	}
}

// TestConcurrentOrderAndContent is the race test: run with -race. One
// producer writes sequence numbers into reused byte buffers; the consumer
// checks strict order and that every byte belongs to its message.
func TestConcurrentOrderAndContent(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for _, capacity := range []int{1, 2, 64, 1024} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			r, _ := New[[]byte](capacity)
			go func() {
				for i := 0; i < n; i++ {
					var p *[]byte
					for attempt := 0; ; attempt++ {
						var ok bool
						if p, ok = r.Reserve(); ok {
							break
						}
						Wait(attempt)
					}
					size := 8 + i%64
					b := (*p)[:0]
					for len(b) < size {
						b = append(b, byte(i))
					}
					binary.LittleEndian.PutUint64(b, uint64(i))
					*p = b
					r.Publish()
				}
				r.Close()
			}()
			got := 0
			for attempt := 0; ; attempt++ {
				p, ok := r.Peek()
				if !ok {
					if r.Closed() && r.Len() == 0 {
						break
					}
					Wait(attempt)
					continue
				}
				attempt = 0
				b := *p
				if seq := binary.LittleEndian.Uint64(b); seq != uint64(got) {
					t.Fatalf("got sequence %d, want %d", seq, got)
				}
				if len(b) != 8+got%64 {
					t.Fatalf("message %d has %d bytes", got, len(b))
				}
				for _, c := range b[8:] {
					if c != byte(got) {
						t.Fatalf("message %d corrupted", got)
					}
				}
				r.Release()
				got++
			}
			if got != n {
				t.Fatalf("consumed %d, want %d", got, n)
			}
		})
	}
}

func TestSlotAPIAllocatesNothing(t *testing.T) {
	r, _ := New[[]byte](64)
	payload := make([]byte, 256)
	allocs := testing.AllocsPerRun(1000, func() {
		p, _ := r.Reserve()
		*p = append((*p)[:0], payload...)
		r.Publish()
		q, _ := r.Peek()
		_ = (*q)[0]
		r.Release()
	})
	if allocs != 0 {
		t.Fatalf("Reserve/Publish/Peek/Release allocate %.1f per op", allocs)
	}
}

func ExampleSPSC() {
	r, _ := New[[]byte](4)
	// producer: fill a slot in place
	p, _ := r.Reserve()
	*p = append((*p)[:0], "batch-1"...)
	r.Publish()
	// consumer: read it in place, then give it back
	q, _ := r.Peek()
	fmt.Println(string(*q), r.Len())
	r.Release()
	fmt.Println(r.Len())
	// Output:
	// batch-1 1
	// 0
}
