package l2

import (
	"context"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/stream"
)

// benchRun runs cfg b.N times and reports the measured rounds' keys/s and
// MiB/s (LMCache's per-round means).
func benchRun(b *testing.B, cfg *Config) {
	b.Helper()
	out := stream.New(io.Discard, "l2", "bench")
	var ops, mbps float64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), cfg, out)
		if err != nil {
			b.Fatal(err)
		}
		st := Stats(res.Ops[0], cfg)
		if st.Failed != 0 {
			b.Fatalf("%d failed keys", st.Failed)
		}
		ops += st.OpsAvg
		mbps += st.TputAvg
	}
	b.ReportMetric(ops/float64(b.N), "keys/s")
	if mbps > 0 {
		b.ReportMetric(mbps/float64(b.N), "MiB/s")
	}
}

func benchDir(b *testing.B, payload, keys int) Spec {
	b.Helper()
	specs, _ := ParseSpecs([]string{fsSpec(b.TempDir(), "")})
	cfg := &Config{Spec: specs[0], NumKeys: keys, InFlight: 1, Payload: payload, Align: 1, Rounds: 1,
		Ops: []Op{Store}, IOWorkers: 2, StoreLoadTimeout: DefaultStoreLoadTimeout, LookupTimeout: DefaultLookupTimeout}
	if _, err := Run(context.Background(), cfg, stream.New(io.Discard, "l2", "bench")); err != nil {
		b.Fatal(err)
	}
	return specs[0]
}

// BenchmarkLookupHit: stat() of 4096 existing files, 4 submits of 1024
// keys, 2 I/O threads.
func BenchmarkLookupHit(b *testing.B) {
	spec := benchDir(b, 4096, 8192)
	benchRun(b, &Config{Spec: spec, NumKeys: 1024, InFlight: 4, Payload: 4096, Align: 1, Rounds: 4, Warmup: 1, HitRate: 1,
		Ops: []Op{Lookup}, IOWorkers: 2, StoreLoadTimeout: DefaultStoreLoadTimeout, LookupTimeout: DefaultLookupTimeout})
}

// BenchmarkLoadHot: 256 KiB loads from the page cache, 8 submits of 32
// keys, 8 I/O threads.
func BenchmarkLoadHot(b *testing.B) {
	spec := benchDir(b, 256<<10, 512)
	benchRun(b, &Config{Spec: spec, NumKeys: 32, InFlight: 8, Payload: 256 << 10, Align: 1, Rounds: 1, Warmup: 1,
		Ops: []Op{Load}, IOWorkers: 8, StoreLoadTimeout: DefaultStoreLoadTimeout, LookupTimeout: DefaultLookupTimeout})
}

// BenchmarkLookupHitUntiled is BenchmarkLookupHit with one key per hand-off.
func BenchmarkLookupHitUntiled(b *testing.B) {
	tileLookups = false
	defer func() { tileLookups = true }()
	BenchmarkLookupHit(b)
}

// BenchmarkStoreProtocol isolates what LMCache's publication protocol
// costs on the filesystem of b.TempDir(): 8 threads each writing files of
// 256 KiB with O_DIRECT, either as fio does (create, pwrite, close) or as
// LMCache's fs adapter does (stat, create <name>.tmp, pwrite, close,
// rename). Same syscalls wrappers, same buffers; only the protocol differs.
// Run the two sub-benchmarks alternately (-count 1 in a loop) on a noisy
// machine.
func BenchmarkStoreProtocol(b *testing.B) {
	for _, proto := range []string{"create-write-close", "stat-tmp-write-close-rename"} {
		b.Run(proto, func(b *testing.B) {
			specs, _ := ParseSpecs([]string{fsSpec(b.TempDir(), `,"use_odirect":true`)})
			a, err := New(specs[0], Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			fs := a.(*fsAdapter)
			const workers, size = 8, 256 << 10
			var next atomic.Uint64
			b.SetBytes(size)
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runtime.LockOSThread()
					buf := alignedBuf(b, size)
					var s Scratch
					for {
						idx := next.Add(1) - 1
						if idx >= uint64(b.N) {
							return
						}
						if proto == "create-write-close" {
							fd, err := openat(fs.dir, s.finalName(idx), unix.O_CREAT|unix.O_WRONLY|unix.O_DIRECT, 0o644)
							if err != nil {
								b.Error(err)
								return
							}
							if _, err := pwriteFull(fd, buf); err != nil {
								b.Error(err)
							}
							unix.Close(fd)
						} else if o := fs.Store(&s, idx, buf); o.Status != OK {
							b.Error(o.Err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// alignedBuf returns a page-aligned buffer (O_DIRECT) from an anonymous
// mapping released when the benchmark ends.
func alignedBuf(b *testing.B, size int) []byte {
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Munmap(m) })
	return m
}
