package calibrate

import (
	"context"
	"testing"
	"time"

	"github.com/lmfast/lmfast/internal/cpus"
)

// BenchmarkEngineVsRawPush measures, in one run, raw pebbe/zmq4 PUSH→PULL
// and lmfast's engine into the same kind of counting sink with the same
// batch bytes (1 s each). It reports both rates, their ratio, and the
// process CPU time per message of each (sender, libzmq and sink threads
// together), which other load on the machine disturbs far less than the
// rates. Run with -benchtime=1x -count=N and compare with benchstat.
func BenchmarkEngineVsRawPush(b *testing.B) {
	c := Common{Transport: "tcp", Senders: 1, Duration: time.Second}
	for i := 0; i < b.N; i++ {
		t0 := cpus.ProcessTime()
		raw, err := Push(context.Background(), c, SampleBatch(50, 10000, 1))
		if err != nil {
			b.Fatal(err)
		}
		t1 := cpus.ProcessTime()
		eng, err := EnginePush(context.Background(), c, 50, 10000, 1)
		if err != nil {
			b.Fatal(err)
		}
		t2 := cpus.ProcessTime()
		b.ReportMetric(raw.Rate, "raw-msgs/s")
		b.ReportMetric(eng.Rate, "engine-msgs/s")
		b.ReportMetric(eng.Rate/raw.Rate, "engine/raw")
		b.ReportMetric(float64((t1-t0).Nanoseconds())/float64(raw.Received), "raw-cpu-ns/msg")
		b.ReportMetric(float64((t2-t1).Nanoseconds())/float64(eng.Received), "engine-cpu-ns/msg")
	}
}
