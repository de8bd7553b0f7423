package l2

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/stream"
)

// resident counts the pages of path that are in the page cache (mincore).
func resident(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+4095)/4096)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// TestDropCachesFadvise: the unprivileged path evicts every bench file's
// pages (checked with mincore), so the next load reads the device.
func TestDropCachesFadvise(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, fsSpec(dir, ""))
	cfg.Ops, cfg.Warmup, cfg.Rounds = []Op{Store}, 0, 1
	runCfg(t, cfg)
	path := filepath.Join(dir, BenchKey(3).FileName())
	if resident(t, path) == 0 {
		t.Skip("freshly written file not in the page cache; cannot observe eviction")
	}
	a, err := New(cfg.Spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	how, err := a.(CacheDropper).DropCaches(context.Background(), uint64(cfg.KeysPerRound()), false)
	if err != nil || how != "fadvise(16 files)" {
		t.Fatalf("DropCaches: %q, %v", how, err)
	}
	if n := resident(t, path); n != 0 {
		t.Fatalf("%d pages still cached after fadvise(DONTNEED)", n)
	}
}

// TestDropCachesStopsAtCtrlC: a Ctrl-C while the caches are dropped (a
// long fdatasync of many dirty files) stops it between two files, and the
// run goes on to no further operation: its result holds the store only.
func TestDropCachesStopsAtCtrlC(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, fsSpec(dir, ""))
	cfg.Ops, cfg.Warmup, cfg.Rounds, cfg.NumKeys, cfg.InFlight, cfg.Payload = []Op{Store}, 0, 1, 8, 1, 4096
	runCfg(t, cfg)
	path := filepath.Join(dir, BenchKey(3).FileName())
	a, err := New(cfg.Spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := &cancelAfter{Context: context.Background()}
	ctx.n.Store(4) // the Ctrl-C comes while file 3 is being dropped
	cached := resident(t, path)
	how, err := a.(CacheDropper).DropCaches(ctx, 8, false)
	if err != context.Canceled || how != "fadvise(3 files)" {
		t.Fatalf("DropCaches after a Ctrl-C at its 4th file: %q, %v", how, err)
	}
	if cached > 0 && resident(t, path) != cached {
		t.Fatalf("file 3 evicted after the Ctrl-C")
	}

	// In a run: the Ctrl-C during the drop before lookup ends it there.
	run, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Ops, cfg.DropCaches = []Op{Store, Lookup, Load}, true
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		fs, err := New(s, o)
		if err != nil {
			return nil, err
		}
		return &cancellingDropper{fs.(*fsAdapter), cancel}, nil
	}
	var buf bytes.Buffer
	res, err := Run(run, cfg, stream.New(&buf, "l2", "t"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Ops) != 1 || res.Ops[0].Op != Store {
		t.Fatalf("interrupted %v, %d operations: want the store only", res.Interrupted, len(res.Ops))
	}
	for _, l := range lines(t, buf.Bytes()) {
		if l["event"] == "drop_caches" || l["event"] == "warning" && !fsNote(l["warning"]) {
			t.Fatalf("line after an interrupted drop: %v", l)
		}
	}
}

// cancellingDropper is an fs adapter whose DropCaches is interrupted by a
// Ctrl-C (cancel) while it runs.
type cancellingDropper struct {
	*fsAdapter
	cancel func()
}

func (c *cancellingDropper) DropCaches(ctx context.Context, n uint64, _ bool) (string, error) {
	c.cancel()
	<-ctx.Done()
	return c.fsAdapter.DropCaches(ctx, n, false)
}
