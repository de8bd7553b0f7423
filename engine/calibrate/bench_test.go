package calibrate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime is this process's user+system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEngineVsRawPush measures, in one run, raw pebbe/zmq4 PUSH→PULL
// and lmfast's engine into the same kind of counting sink with the same
// batch bytes (1 s each). It reports both rates, their ratio, and the
// process CPU time per message of each (sender, libzmq and sink threads
// together), which other load on the machine disturbs far less than the
// rates. Run with -benchtime=1x -count=N and compare with benchstat.
func BenchmarkEngineVsRawPush(b *testing.B) {
	c := Common{Transport: "tcp", Senders: 1, Duration: time.Second}
	for i := 0; i < b.N; i++ {
		t0 := cpuTime(b)
		raw, err := Push(context.Background(), c, SampleBatch(50, 10000, 1))
		if err != nil {
			b.Fatal(err)
		}
		t1 := cpuTime(b)
		eng, err := EnginePush(context.Background(), c, 50, 10000, 1)
		if err != nil {
			b.Fatal(err)
		}
		t2 := cpuTime(b)
		b.ReportMetric(raw.Rate, "raw-msgs/s")
		b.ReportMetric(eng.Rate, "engine-msgs/s")
		b.ReportMetric(eng.Rate/raw.Rate, "engine/raw")
		b.ReportMetric(float64((t1-t0).Nanoseconds())/float64(raw.Received), "raw-cpu-ns/msg")
		b.ReportMetric(float64((t2-t1).Nanoseconds())/float64(eng.Received), "engine-cpu-ns/msg")
	}
}

// BenchmarkEngineVsRawRoundTrip measures, in one run, raw pebbe/zmq4
// DEALER→ROUTER round trips and lmfast's engine's p2p lookups (each reply
// checked) against the same answering sink, with the same request bytes
// and lanes in flight (1 s each). It reports both rates, their ratio, and
// per round trip the process CPU time and voluntary context switches of
// each (sender, libzmq and ROUTER threads together), which other load on
// the machine disturbs far less than the rates. Run with -benchtime=1x
// -count=N and compare with benchstat.
func BenchmarkEngineVsRawRoundTrip(b *testing.B) {
	c := Common{Transport: "tcp", Senders: 1, Duration: time.Second}
	request, reply := SampleLookup(100, 10000)
	for _, lanes := range []int{1, 4} {
		b.Run(fmt.Sprintf("lanes=%d", lanes), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				u0 := usage(b)
				raw, err := RoundTrip(context.Background(), c, lanes, request, reply)
				if err != nil {
					b.Fatal(err)
				}
				u1 := usage(b)
				eng, err := EngineRoundTrip(context.Background(), c, lanes, 100, 10000, 1)
				if err != nil {
					b.Fatal(err)
				}
				u2 := usage(b)
				b.ReportMetric(raw.Rate, "raw-rt/s")
				b.ReportMetric(eng.Rate, "engine-rt/s")
				b.ReportMetric(eng.Rate/raw.Rate, "engine/raw")
				b.ReportMetric(float64((u1.cpu-u0.cpu).Nanoseconds())/float64(raw.Sent), "raw-cpu-ns/rt")
				b.ReportMetric(float64((u2.cpu-u1.cpu).Nanoseconds())/float64(eng.Sent), "engine-cpu-ns/rt")
				b.ReportMetric(float64(u1.vcsw-u0.vcsw)/float64(raw.Sent), "raw-vcsw/rt")
				b.ReportMetric(float64(u2.vcsw-u1.vcsw)/float64(eng.Sent), "engine-vcsw/rt")
			}
		})
	}
}

// rusage is this process's CPU time and voluntary context switches.
type rusage struct {
	cpu  time.Duration
	vcsw int64
}

func usage(tb testing.TB) rusage {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return rusage{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), vcsw: ru.Nvcsw}
}
