package l2

import (
	"context"
	"fmt"
	"io"
	"os"
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

// BenchmarkStoreProtocol isolates what publishing a key costs on the
// filesystem of $L2_BENCH_DIR (default b.TempDir()): 8 threads each
// writing files of 256 KiB from their own cache-hot buffer, with O_DIRECT
// and buffered, published three ways: as fio does (create, pwrite, close),
// as LMCache's fs adapter does (stat, create <name>.tmp, pwrite, close,
// rename) and as lmfast's fs adapter does (create <name>.tmp, pwrite,
// close, rename with RENAME_NOREPLACE). Same syscall wrappers, same
// buffers; only the protocol differs. Run the sub-benchmarks alternately
// (-count 1 in a loop, dropping the page cache between) on a noisy machine.
func BenchmarkStoreProtocol(b *testing.B) {
	for _, direct := range []bool{true, false} {
		for _, proto := range []string{"create-write-close", "stat-tmp-write-close-rename", "lmfast"} {
			b.Run(fmt.Sprintf("direct=%v/%s", direct, proto), func(b *testing.B) {
				benchStoreProtocol(b, direct, proto)
			})
		}
	}
}

func benchStoreProtocol(b *testing.B, direct bool, proto string) {
	dir := b.TempDir()
	if d := os.Getenv("L2_BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "storeprotocol"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	specs, _ := ParseSpecs([]string{fsSpec(dir, fmt.Sprintf(`,"use_odirect":%v`, direct))})
	a, err := New(specs[0], Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	fs := a.(*fsAdapter)
	const workers, size = 8, 256 << 10
	flags := unix.O_CREAT | unix.O_WRONLY
	if direct {
		flags |= unix.O_DIRECT
	}
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
			for i := range buf {
				buf[i] = byte(i)
			}
			var s Scratch
			for {
				idx := next.Add(1) - 1
				if idx >= uint64(b.N) {
					return
				}
				if err := storeWith(fs, &s, proto, flags, idx, buf); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
}

// storeWith publishes buf as key idx with one of BenchmarkStoreProtocol's
// protocols.
func storeWith(fs *fsAdapter, s *Scratch, proto string, flags int, idx uint64, buf []byte) error {
	final := s.finalName(idx)
	switch proto {
	case "lmfast":
		if o := fs.Store(s, idx, buf); o.Status != OK {
			return fmt.Errorf("store: %v %v", o.Status, o.Err)
		}
		return nil
	case "stat-tmp-write-close-rename":
		if fs.exists(final) {
			return fmt.Errorf("key %d exists", idx)
		}
		tmp := s.tmpName(idx, true)
		if err := writeFile(fs.dir, tmp, flags, buf); err != nil {
			return err
		}
		return renameat(fs.dir, tmp, fs.dir, final)
	default:
		return writeFile(fs.dir, final, flags, buf)
	}
}

func writeFile(dir int, name []byte, flags int, buf []byte) error {
	fd, err := openat(dir, name, flags, 0o644)
	if err != nil {
		return err
	}
	_, err = pwriteFull(fd, buf)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return err
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
