// Package hugepage allocates payload buffers outside the Go heap: Alloc
// maps one anonymous region, aligned to a block boundary, optionally backed
// by 2 MiB huge pages, and carves it into fixed-size slots (Region.Slots).
//
// Every slot starts on a multiple of the region's alignment (at least the
// 4096-byte page), so a slot can always be handed to pread/pwrite on a file
// opened with O_DIRECT. With huge pages requested, the region is tried first
// with MAP_HUGETLB (reserved 2 MiB pages, /proc/sys/vm/nr_hugepages) and, when
// none are free, falls back to transparent huge pages via madvise, reporting
// which one it got in a one-line warning. With transparent huge pages alone
// requested, the region is advised with madvise(MADV_HUGEPAGE) and warns only
// when the kernel does not give them. Tests reserve huge pages with package
// hugepagetest.
//
// Huge pages matter for O_DIRECT because the block layer can merge only
// physically contiguous memory into one segment of a request: a 256 KiB
// transfer from 4 KiB pages scattered in physical memory carries up to 64
// segments, from a 2 MiB page one, and a virtual disk may pay per segment.
package hugepage
