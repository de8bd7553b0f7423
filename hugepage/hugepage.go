package hugepage

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

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
	THPOff                 // huge pages requested but none of the kinds asked for is available: 4 KiB pages
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
	base    unsafe.Pointer // start of what is still mapped (the aligned part), for munmap
	length  uintptr        // bytes mapped from base
	mem     []byte         // the usable part: the size asked for, from base
	backing Backing
	warning string
	fb      *fallback // why MAP_HUGETLB was not used (nil: it was, or not asked for)
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
	// THP asks for transparent huge pages alone: the region is a whole
	// number of 2 MiB pages starting on a multiple of lcm(Align, 2 MiB),
	// advised with madvise(MADV_HUGEPAGE); no MAP_HUGETLB, so nothing needs
	// reserving. The kernel may still give 4 KiB pages (THP "never",
	// fragmented memory): the backing and a warning then say so. Huge
	// takes precedence.
	THP bool
}

// Alloc maps a region of at least size bytes. With Huge, the mapping is a
// whole number of 2 MiB pages starting on a multiple of lcm(Align, 2 MiB),
// so that every one of its pages can be a huge page.
func Alloc(size int, opt Options) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("hugepage: size %d must be positive", size)
	}
	align := Alignment(opt.Align)
	if !opt.Huge {
		if opt.THP {
			return allocTHP(size, align)
		}
		return mapAligned(size, align, PageSize, 0)
	}
	hugeAlign := lcm(align, HugePageSize)
	r, err := mapAligned(size, hugeAlign, HugePageSize, unix.MAP_HUGETLB|unix.MAP_HUGE_2MB)
	if err == nil {
		r.backing, r.align = HugeTLB, align
		return r, nil
	}
	need := (roundUp(size, HugePageSize) + hugeAlign - HugePageSize) / HugePageSize
	f := fallback{err: errors.Unwrap(err), need: need, slack: (hugeAlign - HugePageSize) / HugePageSize, boundary: hugeAlign,
		pool: readPool(), mode: THPMode()}
	if r, err = mapAligned(size, hugeAlign, HugePageSize, 0); err != nil {
		return nil, err
	}
	r.align = align // the base is on a huge page boundary; slots keep their own alignment
	r.backing = r.adviseTHP(&f)
	r.fb = &f
	r.warning = f.warning(r.backing)
	return r, nil
}

// allocTHP maps a region of size bytes for transparent huge pages alone
// (Options.THP): whole 2 MiB pages on a multiple of lcm(align, 2 MiB),
// advised with madvise(MADV_HUGEPAGE). It warns only when the kernel cannot
// give huge pages there (CheckBacking looks again once the memory is
// written).
func allocTHP(size, align int) (*Region, error) {
	hugeAlign := lcm(align, HugePageSize)
	r, err := mapAligned(size, hugeAlign, HugePageSize, 0)
	if err != nil {
		return nil, err
	}
	r.align = align
	f := fallback{thpOnly: true, need: roundUp(size, HugePageSize) / HugePageSize, pool: readPool(), mode: THPMode()}
	r.backing = r.adviseTHP(&f)
	r.fb = &f
	if r.backing != THP {
		r.warning = f.warning(r.backing)
	}
	return r, nil
}

// adviseTHP asks the kernel for transparent huge pages over the whole
// region and returns the backing that gives: THP, or THPOff when the mode
// is "never" or unknown or madvise fails (recorded in f).
func (r *Region) adviseTHP(f *fallback) Backing {
	if f.mode == "never" || f.mode == "" {
		return THPOff
	}
	if f.madviseErr = unix.Madvise(r.whole(), unix.MADV_HUGEPAGE); f.madviseErr != nil {
		return THPOff
	}
	return THP
}

// hugePages is "1 huge page", "3 huge pages".
func hugePages(n int) string {
	if n == 1 {
		return "1 huge page"
	}
	return strconv.Itoa(n) + " huge pages"
}

// poolState is the kernel's 2 MiB huge page pool, from /proc/meminfo.
type poolState struct{ total, free, rsvd int }

func readPool() poolState {
	return poolState{total: HugePagesTotal(), free: HugePagesFree(), rsvd: meminfo("HugePages_Rsvd:")}
}

// available is how many pages of the pool a new mapping can get: free and
// not promised to another mapping.
func (p poolState) available() int { return max(0, p.free-p.rsvd) }

// reserveTo is the pool size (nr_hugepages) with which need more pages are
// available: the pages in use or promised stay, plus need. If need were
// available already (MAP_HUGETLB failed for another reason, or they were
// taken meanwhile), it is the pool plus need.
func (p poolState) reserveTo(need int) int {
	if p.available() >= need {
		return p.total + need
	}
	return p.total - p.available() + need
}

// fallback is why MAP_HUGETLB failed and what the region got instead, or,
// for a region that asked for transparent huge pages alone (thpOnly), what
// it got of them.
type fallback struct {
	thpOnly    bool  // Options.THP: MAP_HUGETLB was not tried (err is nil)
	err        error // of mmap
	need       int   // huge pages the mapping needs
	slack      int   // of them, pages mapped only to start on boundary
	boundary   int   // lcm(alignment, 2 MiB)
	pool       poolState
	mode       string // THPMode()
	madviseErr error
	// After CheckBacking: how much of the region's length the kernel put
	// on transparent huge pages (checked false: not looked at yet).
	checked         bool
	thpHuge, mapped uintptr
}

// warning is the one-line warning of a region that asked for huge pages
// and got backing instead: what failed, what it got, and the command that
// reserves enough huge pages.
func (f fallback) warning(got Backing) string {
	if f.thpOnly {
		return f.thpWarning(got)
	}
	why := fmt.Sprintf("MAP_HUGETLB failed (%v): %s of 2 MiB needed", f.err, hugePages(f.need))
	if f.slack > 0 {
		why += fmt.Sprintf(" (%d of them only to start on a %d MiB boundary: the alignment does not divide 2 MiB)", f.slack, f.boundary>>20)
	}
	why += fmt.Sprintf(", %d available", f.pool.available())
	return fmt.Sprintf("hugepages: %s; %s; reserve them with: echo %d > /proc/sys/vm/nr_hugepages", why, f.using(got, " instead"), f.pool.reserveTo(f.need))
}

// thpWarning is the one-line warning of a region that asked for
// transparent huge pages alone and got (part of it on) 4 KiB pages: what
// it got, what 4 KiB pages cost O_DIRECT, and how to get reserved huge
// pages instead.
func (f fallback) thpWarning(got Backing) string {
	return fmt.Sprintf("buffers: %s; an O_DIRECT transfer from 4 KiB pages carries one segment per page, which some (virtual) disks pay for; "+
		"for reserved 2 MiB pages use --hugepages after: echo %d > /proc/sys/vm/nr_hugepages", f.using(got, ""), f.pool.reserveTo(f.need))
}

// using says which pages the region got: transparent huge pages (all or
// part of it; instead is appended to "using transparent huge pages") or
// 4 KiB pages, and why.
func (f fallback) using(got Backing, instead string) string {
	mib := func(n uintptr) float64 { return float64(n) / (1 << 20) }
	switch {
	case got == THP && f.checked && f.thpHuge < f.mapped:
		return fmt.Sprintf("using transparent huge pages (madvise, mode %q)%s; the kernel put %.0f of %.0f MiB on huge pages, the rest on 4 KiB pages",
			f.mode, instead, mib(f.thpHuge), mib(f.mapped))
	case got == THP:
		return fmt.Sprintf("using transparent huge pages (madvise, mode %q)%s", f.mode, instead)
	case f.checked && f.thpHuge == 0:
		return fmt.Sprintf("transparent huge pages (madvise, mode %q): the kernel put none of the %.0f MiB on huge pages (AnonHugePages 0 kB): using 4 KiB pages",
			f.mode, mib(f.mapped))
	case f.madviseErr != nil:
		return fmt.Sprintf("madvise(MADV_HUGEPAGE): %v: using 4 KiB pages", f.madviseErr)
	case f.mode == "":
		return "transparent huge pages are not available: using 4 KiB pages"
	default:
		return fmt.Sprintf("transparent huge pages are %q: using 4 KiB pages", f.mode)
	}
}

// mapAligned maps size bytes, rounded up to a multiple of granule, starting
// on a multiple of align. The kernel places anonymous mappings on a
// multiple of PageSize (of 2 MiB with MAP_HUGETLB); for a larger alignment
// it maps align − that much more and unmaps the unaligned head and the
// tail. Both are unmapped by address (munmap(2)): x/sys/unix.Munmap only
// accepts the very slice its Mmap returned, and refuses any part of it.
func mapAligned(size, align, granule, flags int) (*Region, error) {
	length := roundUp(size, granule)
	natural := PageSize
	if flags&unix.MAP_HUGETLB != 0 {
		natural = HugePageSize
	}
	// No MAP_POPULATE: without MAP_NORESERVE the kernel reserves every huge
	// page at mmap, and zeroes it at its first touch — in the caller's fill,
	// which can stop at a Ctrl-C, where inside mmap nothing can (zeroing
	// gigabytes takes seconds).
	extra := 0
	if align > natural {
		extra = align - natural
	}
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(length+extra), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|flags)
	if err != nil {
		return nil, fmt.Errorf("hugepage: mmap %d bytes: %w", length+extra, err)
	}
	off := 0
	if extra > 0 {
		off = roundUp(int(uintptr(p)), align) - int(uintptr(p))
		if err := munmapRange(p, 0, off); err != nil {
			_ = unix.MunmapPtr(p, uintptr(length+extra))
			return nil, err
		}
		if err := munmapRange(p, off+length, extra-off); err != nil {
			_ = unix.MunmapPtr(unsafe.Add(p, off), uintptr(length+extra-off))
			return nil, err
		}
	}
	base := unsafe.Add(p, off)
	return &Region{base: base, length: uintptr(length), mem: unsafe.Slice((*byte)(base), size), align: align}, nil
}

// munmapRange unmaps n bytes at offset off of the mapping at p (nothing if
// n is 0).
func munmapRange(p unsafe.Pointer, off, n int) error {
	if n == 0 {
		return nil
	}
	if err := unix.MunmapPtr(unsafe.Add(p, off), uintptr(n)); err != nil {
		return fmt.Errorf("hugepage: munmap %d bytes at offset %d: %w", n, off, err)
	}
	return nil
}

// whole returns all mapped bytes, the rounding past the usable size
// included (for madvise).
func (r *Region) whole() []byte { return unsafe.Slice((*byte)(r.base), r.length) }

// Bytes returns the usable memory: exactly the size asked for, starting on
// the region's alignment.
func (r *Region) Bytes() []byte { return r.mem }

// Backing says which pages back the region.
func (r *Region) Backing() Backing { return r.backing }

// Align returns the alignment of the region's start and of its slots.
func (r *Region) Align() int { return r.align }

// Warning is a one-line message when huge pages (Huge or THP) were asked
// for and the region got something else ("" otherwise). It names what it
// got and how to reserve huge pages.
func (r *Region) Warning() string { return r.warning }

// Close unmaps the region. Slots must not be used afterwards. Closing a
// closed region does nothing.
func (r *Region) Close() error {
	if r.base == nil {
		return nil
	}
	err := unix.MunmapPtr(r.base, r.length)
	r.base, r.length, r.mem = nil, 0, nil
	if err != nil {
		return fmt.Errorf("hugepage: munmap: %w", err)
	}
	return nil
}

// CheckBacking re-reads, once the region's memory has been written, how
// much of a THP region the kernel really put on transparent huge pages
// (AnonHugePages of its mapping in /proc/self/smaps; madvise only asks).
// If none of it, the backing becomes THPOff; if part of it, the warning
// says how much. It reports whether the backing or warning changed; other
// backings are left alone.
func (r *Region) CheckBacking() bool {
	if r.backing != THP || r.base == nil || r.fb == nil {
		return false
	}
	lo := uintptr(r.base)
	huge, err := anonHugeBytes(lo, lo+r.length)
	if err != nil || huge >= r.length {
		return false
	}
	r.fb.checked, r.fb.thpHuge, r.fb.mapped = true, huge, r.length
	if huge == 0 {
		r.backing = THPOff
	}
	r.warning = r.fb.warning(r.backing)
	return true
}

// anonHugeBytes sums AnonHugePages over the mappings of /proc/self/smaps
// that overlap [lo, hi). A mapping merged with a neighbour counts whole.
func anonHugeBytes(lo, hi uintptr) (uintptr, error) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	var sum uintptr
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if from, to, ok := smapsRange(line); ok {
			in = from < hi && to > lo
			continue
		}
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok && in {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			sum += uintptr(kb) << 10
		}
	}
	return sum, nil
}

// smapsRange parses a mapping's header line ("7f..-7f.. rw-p ...").
func smapsRange(line string) (lo, hi uintptr, ok bool) {
	head, _, found := strings.Cut(line, " ")
	a, z, dash := strings.Cut(head, "-")
	if !found || !dash {
		return 0, 0, false
	}
	l, err1 := strconv.ParseUint(a, 16, 64)
	h, err2 := strconv.ParseUint(z, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(l), uintptr(h), true
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
