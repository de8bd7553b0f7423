// Package hugepagetest reserves 2 MiB huge pages for tests and benchmarks
// that need real hugetlbfs-backed memory: Reserve raises the kernel's pool
// and returns its release, ReserveOrSkip does so for the rest of a test or
// skips it. Reservations are relative and flock-serialised, so concurrent
// test processes undo only their own share.
//
// It writes /proc/sys/vm/nr_hugepages (root only); lmfast itself never
// changes system settings, so no production code imports this package.
package hugepagetest
