package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// kernelPageSize returns the KernelPageSize (KiB) of the mapping holding
// addr, read from /proc/self/smaps.
func kernelPageSize(t *testing.T, addr uintptr) int {
	t.Helper()
	return smapsKB(t, addr, "KernelPageSize:")
}

// smapsKB returns a kB field ("Private_Hugetlb:", ...) of the mapping
// holding addr, read from /proc/self/smaps.
func smapsKB(t *testing.T, addr uintptr, field string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			in = addr >= lo && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, field) {
			var kb int
			fmt.Sscanf(strings.TrimPrefix(line, field), "%d", &kb)
			return kb
		}
	}
	t.Fatalf("mapping of %#x not found in smaps", addr)
	return 0
}

// closeOK closes r when the test ends and fails the test if munmap did.
// reserveOrSkip reserves n huge pages for the rest of the test (released
// after the regions it closes with closeOK), or skips the test when they
// cannot be reserved.
func reserveOrSkip(t *testing.T, n int) {
	t.Helper()
	release, err := Reserve(n)
	if err != nil {
		t.Skipf("cannot reserve 2 MiB huge pages (needs root and free memory): %v", err)
	}
	t.Cleanup(release)
}

func closeOK(t *testing.T, r *Region) {
	t.Helper()
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func TestAllocAlignmentAndSlots(t *testing.T) {
	tests := []struct {
		name        string
		size, align int
		slots, slot int
		wantAlign   int
		wantStride  int
	}{
		{"default page", 10 * 4096, 0, 10, 4096, 4096, 4096},
		{"align 1 like LMCache's default", 4 * 4096, 1, 4, 3 * 1024, 4096, 4096},
		{"align 64 KiB", 4 << 20, 64 << 10, 4, 256 << 10, 64 << 10, 256 << 10},
		{"odd alignment 3", 12288 * 2, 3, 2, 3072, 12288, 12288},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Alloc(tc.size, Options{Align: tc.align})
			if err != nil {
				t.Fatal(err)
			}
			closeOK(t, r)
			if r.Backing() != Pages || r.Warning() != "" {
				t.Fatalf("backing %v warning %q", r.Backing(), r.Warning())
			}
			if got := r.Align(); got != tc.wantAlign {
				t.Fatalf("align %d, want %d", got, tc.wantAlign)
			}
			if Addr(r.Bytes())%uintptr(tc.wantAlign) != 0 || len(r.Bytes()) != tc.size {
				t.Fatalf("region at %#x len %d", Addr(r.Bytes()), len(r.Bytes()))
			}
			slots, err := r.Slots(tc.slots, tc.slot)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range slots {
				if len(s) != tc.slot || cap(s) != tc.slot {
					t.Fatalf("slot %d len %d cap %d", i, len(s), cap(s))
				}
				if Addr(s)%uintptr(tc.wantAlign) != 0 {
					t.Fatalf("slot %d at %#x not %d-aligned", i, Addr(s), tc.wantAlign)
				}
				if i > 0 && Addr(s)-Addr(slots[i-1]) != uintptr(tc.wantStride) {
					t.Fatalf("stride %d, want %d", Addr(s)-Addr(slots[i-1]), tc.wantStride)
				}
				for j := range s {
					s[j] = byte(i)
				}
			}
			if _, err := r.Slots(tc.slots+1000, tc.slot); err == nil {
				t.Fatal("oversized carve accepted")
			}
		})
	}
}

// TestSlotsServeODirect writes and reads a file with O_DIRECT straight from
// slots: the point of the package.
func TestSlotsServeODirect(t *testing.T) {
	r, err := Alloc(2*256<<10, Options{})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	slots, _ := r.Slots(2, 256<<10)
	for i := range slots[0] {
		slots[0][i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "f")
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_DIRECT, 0o644)
	if err == unix.EINVAL {
		t.Skip("filesystem of TempDir has no O_DIRECT")
	}
	if err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Pwrite(fd, slots[0], 0); err != nil || n != len(slots[0]) {
		t.Fatalf("O_DIRECT pwrite: %d, %v", n, err)
	}
	unix.Close(fd)
	fd, err = unix.Open(path, unix.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if n, err := unix.Pread(fd, slots[1], 0); err != nil || n != len(slots[1]) {
		t.Fatalf("O_DIRECT pread: %d, %v", n, err)
	}
	if string(slots[0]) != string(slots[1]) {
		t.Fatal("read back different bytes")
	}
}

func TestHugeTLB(t *testing.T) {
	reserveOrSkip(t, 4)
	r, err := Alloc(3<<20, Options{Huge: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	if r.Backing() != HugeTLB || r.Warning() != "" {
		t.Fatalf("backing %v, warning %q", r.Backing(), r.Warning())
	}
	if Addr(r.Bytes())%HugePageSize != 0 {
		t.Fatalf("region at %#x is not 2 MiB aligned", Addr(r.Bytes()))
	}
	r.Bytes()[0] = 1
	if slots, err := r.Slots(12, 256<<10); err != nil || Addr(slots[1])-Addr(slots[0]) != 256<<10 {
		t.Fatalf("slots in a huge region: %v", err)
	}
	if kb := kernelPageSize(t, Addr(r.Bytes())); kb != 2048 {
		t.Fatalf("KernelPageSize %d kB, want 2048", kb)
	}
}

// TestHugeTLBNotPopulatedByAlloc: Alloc reserves the huge pages but does
// not fault them in: the kernel zeroes a huge page at its first touch,
// which is the caller's fill (l2 fills its buffers in chunks and stops at a
// Ctrl-C), where MAP_POPULATE would zero every page inside mmap, which no
// signal interrupts.
func TestHugeTLBNotPopulatedByAlloc(t *testing.T) {
	reserveOrSkip(t, 2)
	r, err := Alloc(4<<20, Options{Huge: true})
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	if r.Backing() != HugeTLB {
		t.Skipf("backing %v: the reserved pages were taken by someone else", r.Backing())
	}
	addr := Addr(r.Bytes())
	if kb := smapsKB(t, addr, "Private_Hugetlb:"); kb != 0 {
		t.Fatalf("%d kB of huge pages faulted in by Alloc, want 0", kb)
	}
	r.Bytes()[0], r.Bytes()[2<<20] = 1, 1
	if kb := smapsKB(t, addr, "Private_Hugetlb:"); kb != 4096 {
		t.Fatalf("%d kB of huge pages after touching both, want 4096", kb)
	}
}

func TestHugeFallbackWarns(t *testing.T) {
	if HugePagesFree() >= 1024 {
		t.Skip("1024 huge pages free: MAP_HUGETLB would not fail")
	}
	r, err := Alloc(2048<<20, Options{Huge: true}) // 2 GiB: more than any test reserves
	if err != nil {
		t.Fatal(err)
	}
	closeOK(t, r)
	w := r.Warning()
	if strings.Count(w, "\n") != 0 || !strings.Contains(w, "echo") || !strings.Contains(w, "/proc/sys/vm/nr_hugepages") {
		t.Fatalf("warning %q does not say how to reserve pages", w)
	}
	switch THPMode() {
	case "never", "":
		if r.Backing() != THPOff {
			t.Fatalf("backing %v with THP off", r.Backing())
		}
	default:
		if r.Backing() != THP || !strings.Contains(w, "transparent huge pages") {
			t.Fatalf("backing %v, warning %q", r.Backing(), w)
		}
	}
	if Addr(r.Bytes())%HugePageSize != 0 {
		t.Fatal("THP region not 2 MiB aligned")
	}
	// Slots keep the page alignment: 256 KiB slots are packed, not one per huge page.
	slots, err := r.Slots(8, 256<<10)
	if err != nil || Addr(slots[1])-Addr(slots[0]) != 256<<10 {
		t.Fatalf("slots in a huge region: %v, stride %d", err, Addr(slots[1])-Addr(slots[0]))
	}
}

func TestAllocRejectsBadSize(t *testing.T) {
	if _, err := Alloc(0, Options{}); err == nil {
		t.Fatal("size 0 accepted")
	}
}
