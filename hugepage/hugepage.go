// Package hugepage allocates payload buffers outside the Go heap: one
// anonymous mmap'd region, aligned to a block boundary, optionally backed by
// 2 MiB huge pages, carved into fixed-size slots.
//
// Every slot starts on a multiple of the region's alignment (at least the
// 4096-byte page), so a slot can always be handed to pread/pwrite on a file
// opened with O_DIRECT. With huge pages requested, the region is tried first
// with MAP_HUGETLB (reserved 2 MiB pages, /proc/sys/vm/nr_hugepages) and, when
// none are free, falls back to transparent huge pages via madvise, reporting
// which one it got in a one-line warning.
package hugepage

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Sizes used by the package.
const (
	PageSize     = 4096    // the smallest alignment of any slot
	HugePageSize = 2 << 20 // the huge page size requested from the kernel
)

// Backing says what kind of pages back a Region.
type Backing int

// The kinds of backing memory.
const (
	Pages   Backing = iota // ordinary 4 KiB pages (no huge pages requested)
	HugeTLB                // reserved 2 MiB huge pages (MAP_HUGETLB)
	THP                    // transparent huge pages requested with madvise(MADV_HUGEPAGE)
	THPOff                 // huge pages requested but neither kind is available: 4 KiB pages
)

// String names the backing as the config line shows it.
func (b Backing) String() string {
	switch b {
	case HugeTLB:
		return "hugetlb"
	case THP:
		return "thp"
	case THPOff:
		return "4k-fallback"
	default:
		return "4k"
	}
}

// Region is one mmap'd buffer. Its memory is not managed by the Go garbage
// collector: call Close when done, and never use a slot after that.
type Region struct {
	mapping []byte // the whole mapping, for munmap
	mem     []byte // the aligned, usable part
	backing Backing
	warning string
	align   int
}

// Options select the alignment and backing of a Region.
type Options struct {
	// Align is the alignment of the region's start and of every slot; it is
	// raised to a multiple of PageSize. 0 means PageSize.
	Align int
	// Huge asks for 2 MiB huge pages: MAP_HUGETLB first, then transparent
	// huge pages.
	Huge bool
}

// Alloc maps a region of at least size bytes.
func Alloc(size int, opt Options) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("hugepage: size %d must be positive", size)
	}
	align := Alignment(opt.Align)
	if !opt.Huge {
		return mapAligned(size, align, Pages, "")
	}
	hugeAlign := lcm(align, HugePageSize)
	length := roundUp(size, HugePageSize)
	if hugeAlign == HugePageSize {
		m, err := unix.Mmap(-1, 0, length, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_HUGETLB|unix.MAP_HUGE_2MB|unix.MAP_POPULATE)
		if err == nil {
			return &Region{mapping: m, mem: m[:size:size], backing: HugeTLB, align: align}, nil
		}
	}
	need := length / HugePageSize
	reserve := fmt.Sprintf("reserve them with: echo %d > /proc/sys/vm/nr_hugepages", need+HugePagesTotal())
	mode := THPMode()
	if mode == "never" || mode == "" {
		r, err := mapAligned(size, hugeAlign, THPOff, fmt.Sprintf(
			"hugepages: %d free 2 MiB huge pages needed, %d free, and transparent huge pages are %q: using 4 KiB pages; %s",
			need, HugePagesFree(), mode, reserve))
		if r != nil {
			r.align = align // the base is on a huge page boundary; slots keep their own alignment
		}
		return r, err
	}
	r, err := mapAligned(size, hugeAlign, THP, fmt.Sprintf(
		"hugepages: %d free 2 MiB huge pages needed, %d free: using transparent huge pages (madvise, mode %q) instead; %s",
		need, HugePagesFree(), mode, reserve))
	if err != nil {
		return nil, err
	}
	r.align = align
	if err := unix.Madvise(r.mapping, unix.MADV_HUGEPAGE); err != nil {
		r.backing = THPOff
		r.warning = fmt.Sprintf("hugepages: madvise(MADV_HUGEPAGE): %v: using 4 KiB pages; %s", err, reserve)
	}
	return r, nil
}

// mapAligned maps size bytes starting on a multiple of align by mapping
// align extra bytes and trimming both ends.
func mapAligned(size, align int, b Backing, warning string) (*Region, error) {
	length := roundUp(size, PageSize)
	extra := 0
	if align > PageSize {
		extra = align
	}
	m, err := unix.Mmap(-1, 0, length+extra, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("hugepage: mmap %d bytes: %w", length+extra, err)
	}
	off := 0
	if extra > 0 {
		base := int(uintptrOf(m))
		off = roundUp(base, align) - base
		if off > 0 {
			_ = unix.Munmap(m[:off])
		}
		if tail := extra - off; tail > 0 {
			_ = unix.Munmap(m[off+length : off+length+tail])
		}
		m = m[off : off+length : off+length]
	}
	return &Region{mapping: m, mem: m[:size:size], backing: b, warning: warning, align: align}, nil
}

// Bytes returns the usable memory: exactly the size asked for, starting on
// the region's alignment.
func (r *Region) Bytes() []byte { return r.mem }

// Backing says which pages back the region.
func (r *Region) Backing() Backing { return r.backing }

// Align returns the alignment of the region's start and of its slots.
func (r *Region) Align() int { return r.align }

// Warning is a one-line message when huge pages were asked for and the
// region got something else ("" otherwise). It names what it got and how to
// reserve huge pages.
func (r *Region) Warning() string { return r.warning }

// Close unmaps the region. Slots must not be used afterwards.
func (r *Region) Close() error {
	if r.mapping == nil {
		return nil
	}
	err := unix.Munmap(r.mapping)
	r.mapping, r.mem = nil, nil
	return err
}

// SlotStride is the distance between slots of size bytes in a region of the
// given alignment: size rounded up to the alignment.
func SlotStride(size, align int) int { return roundUp(size, Alignment(align)) }

// Slots cuts n slots of size bytes from the start of the region, each on a
// multiple of the region's alignment (stride SlotStride(size, align)). It
// fails if the region is too small.
func (r *Region) Slots(n, size int) ([][]byte, error) {
	stride := SlotStride(size, r.align)
	if n < 0 || size <= 0 || n*stride > len(r.mem) {
		return nil, fmt.Errorf("hugepage: %d slots of %d bytes (stride %d) do not fit in %d bytes", n, size, stride, len(r.mem))
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = r.mem[i*stride : i*stride+size : i*stride+size]
	}
	return out, nil
}

// Alignment returns the alignment a Region uses for a requested one: the
// least common multiple of align and PageSize.
func Alignment(align int) int {
	if align <= 0 {
		return PageSize
	}
	return lcm(align, PageSize)
}

// HugePagesFree returns HugePages_Free from /proc/meminfo (0 if unknown).
func HugePagesFree() int { return meminfo("HugePages_Free:") }

// HugePagesTotal returns HugePages_Total from /proc/meminfo (0 if unknown).
func HugePagesTotal() int { return meminfo("HugePages_Total:") }

// THPMode returns the selected transparent huge page mode ("always",
// "madvise" or "never"), or "" if the kernel does not say.
func THPMode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	s := string(b)
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

func meminfo(field string) int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return 0
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

// Reserve raises the kernel's pool of 2 MiB huge pages by n pages (root
// only; writes /proc/sys/vm/nr_hugepages) and returns a func that lowers
// it by n again — relative, so concurrent reservations (test packages run
// in parallel) undo exactly their own share. It fails when the kernel could
// not find n free huge pages (fragmented memory) or the pool cannot be
// written. Tests and benchmarks use it; lmfast itself never changes system
// settings.
func Reserve(n int) (release func(), err error) {
	before, err := nrHugePages()
	if err != nil {
		return nil, err
	}
	if err := setNrHugePages(before + n); err != nil {
		return nil, err
	}
	release = func() {
		if cur, err := nrHugePages(); err == nil {
			_ = setNrHugePages(max(0, cur-n))
		}
	}
	if free := HugePagesFree(); free < n {
		release()
		return nil, fmt.Errorf("asked the kernel for %d huge pages, %d free", n, free)
	}
	return release, nil
}

const nrHugePagesPath = "/proc/sys/vm/nr_hugepages"

func nrHugePages() (int, error) {
	b, err := os.ReadFile(nrHugePagesPath)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %q", nrHugePagesPath, b)
	}
	return n, nil
}

func setNrHugePages(n int) error {
	return os.WriteFile(nrHugePagesPath, []byte(strconv.Itoa(n)), 0o644)
}
