package hugepage

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vmSizeKB is this process's VmSize (/proc/self/status).
func vmSizeKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmSize:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return n
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
	return 0
}

// mapped reports whether the page holding p is mapped: mincore(2) fails
// with ENOMEM on an unmapped page.
func mapped(t *testing.T, p unsafe.Pointer) bool {
	t.Helper()
	var vec [1]byte
	page := uintptr(p) &^ (PageSize - 1)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, page, PageSize, uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 && e != unix.ENOMEM {
		t.Fatalf("mincore(%#x): %v", page, e)
	}
	return e == 0
}

// TestCloseUnmapsEveryRegion: Close succeeds for every kind of region and
// leaves nothing mapped, so repeated Alloc/Close does not grow the
// address space: also the regions trimmed to an alignment above 4096 and
// the THP fallbacks, whose mapping is not the slice Alloc returned.
func TestCloseUnmapsEveryRegion(t *testing.T) {
	const size, n = 256 << 20, 8
	for _, tc := range []struct {
		name string
		opt  Options
	}{
		{"4k pages", Options{}},
		{"align 64 KiB", Options{Align: 64 << 10}},
		{"odd alignment 3 x 4 KiB", Options{Align: 3 << 12}},
		{"huge pages (hugetlb or its fallback)", Options{Huge: true}},
		{"huge pages, alignment not dividing 2 MiB", Options{Huge: true, Align: 3 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := vmSizeKB(t)
			for i := 0; i < n; i++ {
				r, err := Alloc(size, tc.opt)
				if err != nil {
					t.Fatal(err)
				}
				first, last := unsafe.Pointer(&r.Bytes()[0]), unsafe.Pointer(&r.Bytes()[size-1])
				r.Bytes()[0], r.Bytes()[size-1] = 1, 1
				if err := r.Close(); err != nil {
					t.Fatalf("Close (backing %v): %v", r.Backing(), err)
				}
				if mapped(t, first) || mapped(t, last) {
					t.Fatalf("backing %v: region still mapped after Close", r.Backing())
				}
				if err := r.Close(); err != nil {
					t.Fatalf("second Close: %v", err)
				}
			}
			// The Go runtime may map a little meanwhile; the leak was n × size.
			if grew := vmSizeKB(t) - before; grew > size/1024 {
				t.Fatalf("VmSize grew %d MiB over %d × Alloc(%d MiB) + Close", grew/1024, n, size>>20)
			}
		})
	}
}

// TestHugeRegionsAreWholeHugePages: a huge-page region maps whole 2 MiB
// pages from a 2 MiB boundary, so its tail can be a huge page too.
func TestHugeRegionsAreWholeHugePages(t *testing.T) {
	for _, size := range []int{1, 3 << 20, 5<<20 + 4096} {
		r, err := Alloc(size, Options{Huge: true})
		if err != nil {
			t.Fatal(err)
		}
		if uintptr(r.base)%HugePageSize != 0 || r.length%HugePageSize != 0 || len(r.Bytes()) != size {
			t.Errorf("size %d, backing %v: mapping at %#x of %d bytes", size, r.Backing(), uintptr(r.base), r.length)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHugeTLBWithAlignmentNotDividing2MiB: an alignment that is not a
// divisor of 2 MiB still gets MAP_HUGETLB (aligned by trimming whole huge
// pages).
func TestHugeTLBWithAlignmentNotDividing2MiB(t *testing.T) {
	reserveOrSkip(t, 3) // 1 page for 2 MiB + 2 pages of slack for a 6 MiB boundary
	r, err := Alloc(2<<20, Options{Huge: true, Align: 3 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Backing() != HugeTLB || r.Warning() != "" {
		t.Fatalf("backing %v, warning %q", r.Backing(), r.Warning())
	}
	if Addr(r.Bytes())%(6<<20) != 0 || r.Align() != 3<<20 {
		t.Fatalf("region at %#x, align %d: want a 6 MiB boundary (lcm of 3 MiB and 2 MiB)", Addr(r.Bytes()), r.Align())
	}
	r.Bytes()[0] = 1
	if kb := kernelPageSize(t, Addr(r.Bytes())); kb != 2048 {
		t.Fatalf("KernelPageSize %d kB, want 2048", kb)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if free := HugePagesFree(); free < 3 {
		t.Fatalf("%d of the 3 reserved huge pages free after Close: the trimmed pages leaked", free)
	}
}

// TestCheckBackingSeesNoTHP: with THP disabled for this process
// (prctl(PR_SET_THP_DISABLE)), madvise still succeeds but the kernel gives
// no huge page; CheckBacking reads AnonHugePages and reports 4 KiB pages
// instead of claiming "thp".
func TestCheckBackingSeesNoTHP(t *testing.T) {
	if HugePagesFree() > 0 {
		t.Skip("free hugetlb pages: Alloc would not fall back to THP")
	}
	if m := THPMode(); m == "never" || m == "" {
		t.Skipf("transparent huge pages are %q", m)
	}
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		t.Skipf("prctl(PR_SET_THP_DISABLE): %v", err)
	}
	defer unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
	r, err := Alloc(8<<20, Options{Huge: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	if r.Backing() != THP {
		t.Skipf("backing %v before touching: nothing to check", r.Backing())
	}
	fill := r.Bytes()
	for i := range fill {
		fill[i] = 1
	}
	if !r.CheckBacking() || r.Backing() != THPOff || !strings.Contains(r.Warning(), "none of the 8 MiB on huge pages") {
		t.Fatalf("after touching with THP disabled: backing %v, warning %q", r.Backing(), r.Warning())
	}
}

// TestCheckBackingAgreesWithSmaps: whatever the kernel gave a touched THP
// region, the backing CheckBacking leaves is "thp" exactly when some of it
// is on huge pages.
func TestCheckBackingAgreesWithSmaps(t *testing.T) {
	if HugePagesFree() > 0 {
		t.Skip("free hugetlb pages: Alloc would not fall back to THP")
	}
	r, err := Alloc(8<<20, Options{Huge: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	for i := range r.Bytes() {
		r.Bytes()[i] = 1
	}
	was := r.Backing()
	r.CheckBacking()
	huge, err := anonHugeBytes(uintptr(r.base), uintptr(r.base)+r.length)
	if err != nil {
		t.Skip(err)
	}
	t.Logf("backing %v -> %v, %d KiB on huge pages, warning %q", was, r.Backing(), huge>>10, r.Warning())
	if was == THP && (r.Backing() == THP) != (huge > 0) {
		t.Fatalf("backing %v with %d bytes on huge pages", r.Backing(), huge)
	}
}
