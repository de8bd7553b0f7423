package ring

import (
	"testing"
)

// BenchmarkSPSCSameGoroutine measures the uncontended cost of one
// Reserve/Publish/Peek/Release round.
func BenchmarkSPSCSameGoroutine(b *testing.B) {
	r, _ := New[[]byte](1024)
	payload := make([]byte, 1800) // a 50-op BatchedKVOperationMsg
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p, _ := r.Reserve()
		*p = append((*p)[:0], payload...)
		r.Publish()
		r.Peek()
		r.Release()
	}
}

// BenchmarkChanSameGoroutine is the buffered-channel baseline of the same
// round (a channel of pointers to reused buffers).
func BenchmarkChanSameGoroutine(b *testing.B) {
	ch := make(chan *[]byte, 1024)
	buf := make([]byte, 0, 1800)
	payload := make([]byte, 1800)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = append(buf[:0], payload...)
		ch <- &buf
		<-ch
	}
}

// BenchmarkSPSCCrossGoroutine moves b.N items from a producer goroutine to
// the benchmark goroutine.
func BenchmarkSPSCCrossGoroutine(b *testing.B) {
	r, _ := New[uint64](1024)
	b.ReportAllocs()
	go func() {
		for i := 0; i < b.N; i++ {
			for attempt := 0; !r.TryPush(uint64(i)); attempt++ {
				Wait(attempt)
			}
		}
	}()
	for i := 0; i < b.N; i++ {
		for attempt := 0; ; attempt++ {
			if v, ok := r.TryPop(); ok {
				if v != uint64(i) {
					b.Fatalf("got %d want %d", v, i)
				}
				break
			}
			Wait(attempt)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkChanCrossGoroutine is the buffered-channel baseline.
func BenchmarkChanCrossGoroutine(b *testing.B) {
	ch := make(chan uint64, 1024)
	b.ReportAllocs()
	go func() {
		for i := 0; i < b.N; i++ {
			ch <- uint64(i)
		}
	}()
	for i := 0; i < b.N; i++ {
		if v := <-ch; v != uint64(i) {
			b.Fatalf("got %d want %d", v, i)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
