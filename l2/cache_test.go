package l2

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
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
	how, err := a.(CacheDropper).DropCaches(uint64(cfg.KeysPerRound()), false)
	if err != nil || how != "fadvise(16 files)" {
		t.Fatalf("DropCaches: %q, %v", how, err)
	}
	if n := resident(t, path); n != 0 {
		t.Fatalf("%d pages still cached after fadvise(DONTNEED)", n)
	}
}
