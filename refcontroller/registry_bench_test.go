package refcontroller

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// registryKeys returns n worker keys laid out as lmfast registers them:
// 10 workers per instance.
func registryKeys(n int) []workerKey {
	keys := make([]workerKey, n)
	for i := range keys {
		keys[i] = workerKey{instance: "instance_p0_" + strconv.Itoa(i/10), worker: int64(i % 10)}
	}
	return keys
}

// BenchmarkRegistryRegister registers n workers into an empty registry and
// deregisters them again, in registration order: the cost of one register
// plus one deregister with n workers registered (a registry that copies
// its table per change grows with n).
func BenchmarkRegistryRegister(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			keys := registryKeys(n)
			now := time.Now()
			for i := 0; i < b.N; i++ {
				r := newRegistry()
				for _, k := range keys {
					r.register(k, "127.0.0.1", 1, nil, now)
				}
				for _, k := range keys {
					r.deregister(k)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/worker")
		})
	}
}

// BenchmarkRegistryLookup looks registered workers up by key (what every
// KV batch does), from all CPUs at once, in a registry of n workers.
func BenchmarkRegistryLookup(b *testing.B) {
	for _, n := range []int{10, 1_000} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			keys := registryKeys(n)
			r := newRegistry()
			for _, k := range keys {
				r.register(k, "127.0.0.1", 1, nil, time.Now())
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if r.lookup(keys[i%len(keys)]) == nil {
						b.Error("registered worker not found")
						return
					}
					i++
				}
			})
		})
	}
}
