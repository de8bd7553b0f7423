package hugepage

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds address p ("hg": advised with MADV_HUGEPAGE).
func vmFlags(t *testing.T, p uintptr) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if lo, hi, ok := smapsRange(line); ok {
			in = lo <= p && p < hi
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no mapping holds %#x", p)
	return nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// TestTHPOptionAdvisesWholeHugePages: a region with Options.THP is whole
// 2 MiB pages on a 2 MiB boundary advised with MADV_HUGEPAGE (VmFlags
// "hg"), its slots keep the asked alignment, and, once written, the
// kernel's AnonHugePages and the backing CheckBacking leaves agree: "thp"
// with no warning when all of it is on huge pages. A region without THP
// (or Huge) is not advised and has 4 KiB pages. This is what l2's default
// buffers get (the O_DIRECT segments of bench_results/l2-lmcache-*.md).
func TestTHPOptionAdvisesWholeHugePages(t *testing.T) {
	if m := THPMode(); m == "never" || m == "" {
		t.Skipf("transparent huge pages are %q", m)
	}
	const size = 6<<20 + 4096 // not a whole number of huge pages
	r, err := Alloc(size, Options{THP: true, Align: 4096})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	base := uintptr(r.base)
	if base%HugePageSize != 0 || r.length != 8<<20 || len(r.Bytes()) != size || r.Align() != 4096 {
		t.Fatalf("mapping at %#x of %d bytes, usable %d, align %d", base, r.length, len(r.Bytes()), r.Align())
	}
	if r.Backing() != THP || r.Warning() != "" {
		t.Fatalf("backing %v, warning %q", r.Backing(), r.Warning())
	}
	if f := vmFlags(t, base); !hasFlag(f, "hg") {
		t.Fatalf("region not advised with MADV_HUGEPAGE: VmFlags %v", f)
	}
	slots, err := r.Slots(3, 2<<20)
	if err != nil || Addr(slots[1])-Addr(slots[0]) != 2<<20 {
		t.Fatalf("slots: %v", err)
	}
	for i := range r.Bytes() {
		r.Bytes()[i] = 1
	}
	changed := r.CheckBacking()
	huge, err := anonHugeBytes(base, base+r.length)
	if err != nil {
		t.Skip(err)
	}
	t.Logf("%d of %d KiB on huge pages; backing %v, warning %q", huge>>10, r.length>>10, r.Backing(), r.Warning())
	switch {
	case huge >= r.length && (changed || r.Backing() != THP || r.Warning() != ""):
		t.Fatalf("all on huge pages, yet backing %v, warning %q", r.Backing(), r.Warning())
	case huge < r.length && (!changed || !strings.HasPrefix(r.Warning(), "buffers: ")):
		t.Fatalf("%d of %d bytes on huge pages, yet no warning (backing %v)", huge, r.length, r.Backing())
	case (r.Backing() == THP) != (huge > 0):
		t.Fatalf("backing %v with %d bytes on huge pages", r.Backing(), huge)
	}

	plain, err := Alloc(size, Options{Align: 4096})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, plain)
	if f := vmFlags(t, uintptr(plain.base)); hasFlag(f, "hg") || plain.Backing() != Pages || plain.Warning() != "" {
		t.Fatalf("plain region: VmFlags %v, backing %v, warning %q", f, plain.Backing(), plain.Warning())
	}
}

// TestTHPOptionWarnsWhenKernelGivesNone: with THP disabled for this
// process (prctl(PR_SET_THP_DISABLE)), madvise still succeeds but the
// written region has no huge page; CheckBacking says 4 KiB pages and the
// warning says so (the default buffers never claim "thp" falsely).
func TestTHPOptionWarnsWhenKernelGivesNone(t *testing.T) {
	if m := THPMode(); m == "never" || m == "" {
		t.Skipf("transparent huge pages are %q", m)
	}
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		t.Skipf("prctl(PR_SET_THP_DISABLE): %v", err)
	}
	defer unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
	r, err := Alloc(8<<20, Options{THP: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	if r.Backing() != THP {
		t.Skipf("backing %v before touching: nothing to check", r.Backing())
	}
	for i := range r.Bytes() {
		r.Bytes()[i] = 1
	}
	if !r.CheckBacking() || r.Backing() != THPOff || !strings.HasPrefix(r.Warning(), "buffers: ") ||
		!strings.Contains(r.Warning(), "none of the 8 MiB on huge pages") {
		t.Fatalf("after touching with THP disabled: backing %v, warning %q", r.Backing(), r.Warning())
	}
}
