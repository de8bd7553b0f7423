package hugepage

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFallbackWarning: the one-line warning of a region that asked for huge
// pages says what it got (transparent huge pages or 4 KiB pages), how many
// pages it needed and why (an alignment that does not divide 2 MiB needs
// more), and the nr_hugepages value that makes them available: the pages
// in use or promised to others stay, plus the ones needed (not the pool
// plus the ones needed, which overstates it by the free pages).
func TestFallbackWarning(t *testing.T) {
	enomem := errors.New("cannot allocate memory")
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		f    fallback
		got  Backing
		want []string // substrings, in order
	}{
		{"empty pool, THP", fallback{err: enomem, need: 1, mode: "madvise"}, THP,
			[]string{"MAP_HUGETLB failed (cannot allocate memory): 1 huge page of 2 MiB needed, 0 available",
				`using transparent huge pages (madvise, mode "madvise") instead`, "echo 1 > /proc/sys/vm/nr_hugepages"}},
		{"free pages, too few", fallback{err: enomem, need: 1200, pool: poolState{total: 1000, free: 1000}, mode: "always"}, THP,
			[]string{"1200 huge pages of 2 MiB needed, 1000 available", "echo 1200 > /proc/sys/vm/nr_hugepages"}},
		{"some free", fallback{err: enomem, need: 14, pool: poolState{total: 5, free: 5}, mode: "madvise"}, THP,
			[]string{"14 huge pages", "5 available", "echo 14 > "}},
		{"pool in use", fallback{err: enomem, need: 6, pool: poolState{total: 1000}, mode: "madvise"}, THP,
			[]string{"0 available", "echo 1006 > "}},
		{"pool promised to others", fallback{err: enomem, need: 6, pool: poolState{total: 1000, free: 1000, rsvd: 1000}, mode: "madvise"}, THP,
			[]string{"0 available", "echo 1006 > "}},
		{"enough available, failed anyway", fallback{err: enomem, need: 4, pool: poolState{total: 10, free: 10}, mode: "madvise"}, THP,
			[]string{"4 huge pages", "10 available", "echo 14 > "}},
		{"alignment not dividing 2 MiB, THP never", fallback{err: enomem, need: 3, slack: 2, boundary: 6 * mib, mode: "never"}, THPOff,
			[]string{"3 huge pages of 2 MiB needed (2 of them only to start on a 6 MiB boundary: the alignment does not divide 2 MiB)", `transparent huge pages are "never": using 4 KiB pages`,
				"echo 3 > /proc/sys/vm/nr_hugepages"}},
		{"no THP in the kernel", fallback{err: enomem, need: 2}, THPOff,
			[]string{"transparent huge pages are not available: using 4 KiB pages", "echo 2 > "}},
		{"madvise refused", fallback{err: enomem, need: 2, mode: "madvise", madviseErr: unix.EINVAL}, THPOff,
			[]string{"madvise(MADV_HUGEPAGE): invalid argument: using 4 KiB pages", "echo 2 > "}},
		{"THP gave none", fallback{err: enomem, need: 4, mode: "madvise", checked: true, mapped: 8 * mib}, THPOff,
			[]string{`transparent huge pages (madvise, mode "madvise"): the kernel put none of the 8 MiB on huge pages`, "using 4 KiB pages", "echo 4 > "}},
		{"THP gave part", fallback{err: enomem, need: 4, mode: "madvise", checked: true, thpHuge: 2 * mib, mapped: 8 * mib}, THP,
			[]string{"using transparent huge pages", "the kernel put 2 of 8 MiB on huge pages, the rest on 4 KiB pages", "echo 4 > "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.f.warning(tc.got)
			if strings.ContainsAny(w, "\n\r") || !strings.HasPrefix(w, "hugepages: ") {
				t.Fatalf("not one line: %q", w)
			}
			rest := w
			for _, s := range tc.want {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("warning lacks %q (in order):\n%s", s, w)
				}
				rest = rest[i+len(s):]
			}
			if !strings.HasSuffix(w, " > /proc/sys/vm/nr_hugepages") {
				t.Fatalf("the reserve command is not the end of the line: %s", w)
			}
		})
	}
}

// TestTHPOnlyWarning: a region that asked for transparent huge pages alone
// (Options.THP) warns on one line starting "buffers: " with what it got
// instead, what 4 KiB pages cost an O_DIRECT transfer, and how to get
// reserved pages; it never mentions a MAP_HUGETLB failure (none was tried).
func TestTHPOnlyWarning(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		f    fallback
		got  Backing
		want []string // substrings, in order
	}{
		{"THP never", fallback{thpOnly: true, need: 3, mode: "never"}, THPOff,
			[]string{`transparent huge pages are "never": using 4 KiB pages`, "one segment per page", "--hugepages", "echo 3 > /proc/sys/vm/nr_hugepages"}},
		{"no THP in the kernel", fallback{thpOnly: true, need: 1}, THPOff,
			[]string{"transparent huge pages are not available: using 4 KiB pages", "echo 1 > "}},
		{"madvise refused", fallback{thpOnly: true, need: 2, mode: "madvise", madviseErr: unix.EINVAL}, THPOff,
			[]string{"madvise(MADV_HUGEPAGE): invalid argument: using 4 KiB pages", "echo 2 > "}},
		{"THP gave none", fallback{thpOnly: true, need: 4, mode: "always", checked: true, mapped: 8 * mib}, THPOff,
			[]string{`(madvise, mode "always"): the kernel put none of the 8 MiB on huge pages`, "using 4 KiB pages", "echo 4 > "}},
		{"THP gave part", fallback{thpOnly: true, need: 4, mode: "madvise", checked: true, thpHuge: 6 * mib, mapped: 8 * mib, pool: poolState{total: 10}}, THP,
			[]string{`using transparent huge pages (madvise, mode "madvise"); the kernel put 6 of 8 MiB on huge pages, the rest on 4 KiB pages`, "echo 14 > "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.f.warning(tc.got)
			if strings.ContainsAny(w, "\n\r") || !strings.HasPrefix(w, "buffers: ") || strings.Contains(w, "MAP_HUGETLB") || strings.Contains(w, "instead") {
				t.Fatalf("not a THP-only line: %q", w)
			}
			rest := w
			for _, s := range tc.want {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("warning lacks %q (in order):\n%s", s, w)
				}
				rest = rest[i+len(s):]
			}
		})
	}
}
