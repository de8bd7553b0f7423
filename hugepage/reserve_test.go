package hugepage

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// stingyPool is a pool in a file whose "kernel" grants at most max pages
// and reports every page it holds as free.
type stingyPool struct {
	sysPool
	max int
}

func (p stingyPool) set(n int) error { return p.sysPool.set(min(n, p.max)) }
func (p stingyPool) free() int {
	n, _ := p.get()
	return n
}

func tempPool(t *testing.T, start string) sysPool {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nr_hugepages")
	if err := os.WriteFile(path, []byte(start), 0o644); err != nil {
		t.Fatal(err)
	}
	return sysPool{path: path}
}

// TestReserveReleasesOnlyWhatWasGranted: when the kernel grants fewer
// pages than asked, Reserve fails and gives back exactly those, leaving the
// pool as it found it, not less by the pages asked for and never granted.
func TestReserveReleasesOnlyWhatWasGranted(t *testing.T) {
	p := stingyPool{sysPool: tempPool(t, "2\n"), max: 4}
	release, err := reserve(p, 4)
	if err == nil || !strings.Contains(err.Error(), "granted 2") {
		t.Fatalf("reserve of 4 with 2 grantable: release %v, err %v", release != nil, err)
	}
	if n, _ := p.get(); n != 2 {
		t.Fatalf("pool %d after a failed reservation, want the 2 it had", n)
	}
	release, err = reserve(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release() // idempotent
	if n, _ := p.get(); n != 2 {
		t.Fatalf("pool %d after reserve+release twice, want 2", n)
	}
}

// TestReserveIsSerialised: concurrent reservations (each with its own open
// file description, as separate processes have) never lose an update:
// after every one is released the pool is back where it started.
func TestReserveIsSerialised(t *testing.T) {
	p := tempPool(t, "7\n")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				release, err := reserve(stingyPool{sysPool: p, max: 1 << 30}, 4)
				if err != nil {
					t.Error(err)
					return
				}
				release()
			}
		}()
	}
	wg.Wait()
	if n, _ := p.get(); n != 7 {
		t.Fatalf("pool %d after 400 concurrent reserve/release pairs, want 7", n)
	}
}

// TestReserveKernelPool: on the real pool (root), a reservation shows in
// HugePages_Total and its release puts the count back.
func TestReserveKernelPool(t *testing.T) {
	before := HugePagesTotal()
	release, err := Reserve(2)
	if err != nil {
		t.Skipf("cannot reserve 2 MiB huge pages (needs root and free memory): %v", err)
	}
	if got := HugePagesTotal(); got < before+2 {
		release()
		t.Fatalf("HugePages_Total %d after reserving 2 on %d", got, before)
	}
	release()
}
