// Package cpus parses taskset-style CPU lists, pins goroutines to CPUs and
// describes the machine's processor for config lines.
package cpus

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
	"golang.org/x/sys/unix"
)

// Parse reads a CPU list in taskset/cpuset syntax: comma-separated CPU
// numbers and inclusive ranges, with an optional ":stride" on a range
// ("0-7", "0,2,4", "0-15:2", "1,3-5"). The result is sorted and free of
// duplicates.
func Parse(list string) ([]int, error) {
	list = strings.TrimSpace(list)
	if list == "" {
		return nil, fmt.Errorf("empty CPU list")
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		rng, strideText, hasStride := strings.Cut(part, ":")
		stride := 1
		if hasStride {
			s, err := strconv.Atoi(strideText)
			if err != nil || s <= 0 {
				return nil, fmt.Errorf("bad stride in %q", part)
			}
			stride = s
		}
		loText, hiText, isRange := strings.Cut(rng, "-")
		lo, err := atoiCPU(loText, part)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = atoiCPU(hiText, part); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("range %q runs backwards", part)
			}
		} else if hasStride {
			return nil, fmt.Errorf("stride without a range in %q", part)
		}
		for c := lo; c <= hi; c += stride {
			seen[c] = true
		}
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Ints(out)
	return out, nil
}

func atoiCPU(s, part string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n >= 1<<16 {
		return 0, fmt.Errorf("bad CPU number in %q", part)
	}
	return n, nil
}

// Allowed returns the CPUs this process may run on (its affinity mask).
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	var out []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Validate checks that every CPU in list is one this process may use, and
// names the first one that is not.
func Validate(list []int) error {
	allowed, err := Allowed()
	if err != nil {
		return err
	}
	ok := map[int]bool{}
	for _, c := range allowed {
		ok[c] = true
	}
	for _, c := range list {
		if !ok[c] {
			return fmt.Errorf("CPU %d is not available (this process may use %s)", c, Format(allowed))
		}
	}
	return nil
}

// Pin locks the calling goroutine to its OS thread and restricts that thread
// to cpu. Call it first thing in the goroutine that must stay pinned; the
// goroutine keeps the thread until it exits.
func Pin(cpu int) error {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Zero()
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	return nil
}

// Current returns the CPU the calling thread is running on.
func Current() int {
	var cpu, node uint32
	_, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0)
	if errno != 0 {
		return -1
	}
	return int(cpu)
}

// Format renders a sorted CPU list compactly, e.g. [0 1 2 3 6] → "0-3,6".
func Format(list []int) string {
	var b strings.Builder
	for i := 0; i < len(list); {
		j := i
		for j+1 < len(list) && list[j+1] == list[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", list[i], list[j])
		} else {
			fmt.Fprintf(&b, "%d", list[i])
		}
		i = j + 1
	}
	return b.String()
}

// Info describes the processor, for config lines and reports.
type Info struct {
	Model          string `json:"model"`
	Vendor         string `json:"vendor"`
	PhysicalCores  int    `json:"physical_cores"`
	ThreadsPerCore int    `json:"threads_per_core"`
	LogicalCores   int    `json:"logical_cores"`
	Online         int    `json:"online"`
	L2KiB          int    `json:"l2_kib"`
	L3KiB          int    `json:"l3_kib"`
	CacheLine      int    `json:"cache_line"`
}

// Describe reads the processor's identity and topology with cpuid.
func Describe() Info {
	c := cpuid.CPU
	return Info{
		Model:          strings.TrimSpace(c.BrandName),
		Vendor:         c.VendorString,
		PhysicalCores:  c.PhysicalCores,
		ThreadsPerCore: c.ThreadsPerCore,
		LogicalCores:   c.LogicalCores,
		Online:         runtime.NumCPU(),
		L2KiB:          c.Cache.L2 / 1024,
		L3KiB:          c.Cache.L3 / 1024,
		CacheLine:      c.CacheLine,
	}
}

// String renders Info on one line, e.g.
// "AMD EPYC 7B13 (2 online; 1 core x 2 threads; L2 512 KiB, L3 32768 KiB)".
func (i Info) String() string {
	return fmt.Sprintf("%s (%d online; %d core x %d threads; L2 %d KiB, L3 %d KiB)",
		i.Model, i.Online, i.PhysicalCores, i.ThreadsPerCore, i.L2KiB, i.L3KiB)
}
