package engine

import (
	"testing"
	"time"
)

// BenchmarkProducerFill is the producer's cost per pre-encoded admit batch
// of 50 keys: drawing the keys and encoding the frame into a reused slot.
func BenchmarkProducerFill(b *testing.B) {
	mix, _ := ParseOperations("admit:100")
	cfg := &Config{BatchSize: 50, Mix: mix, NumInstances: 10, NumWorkers: 1, NumLocations: 1, NumKeys: 10000, NumHashes: 100}
	p := newProducer(cfg, newPairs(cfg, newInstances(cfg), [][2]int{{0, 0}, {1, 0}}), 1)
	var it item
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.fill(&it)
	}
}

// BenchmarkSenderDone is the sender's bookkeeping per successful operation
// (counters and the latency histogram), without the send itself.
func BenchmarkSenderDone(b *testing.B) {
	mix, _ := ParseOperations("admit:100")
	cfg := &Config{Mix: mix, RingSize: 16}
	s, err := newSender(0, cfg, nil, -1, nil)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	t1 := t0.Add(3 * time.Microsecond)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.done(OpAdmit, 50, t0, t0, t1)
	}
}
