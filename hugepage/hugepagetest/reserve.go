package hugepagetest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Reserve raises the kernel's pool of 2 MiB huge pages by n pages (root
// only; writes /proc/sys/vm/nr_hugepages) and returns a func that lowers
// it again by exactly what the kernel granted — relative, so concurrent
// reservations (test packages run in parallel) undo only their own share.
// Each read-modify-write of the pool holds an exclusive flock(2) on
// /proc/sys/vm/nr_hugepages itself, so reservations of concurrent processes
// do not interleave. It fails, having given back what it got, when the
// kernel grants fewer than n pages (fragmented memory), fewer than n are
// free, or the pool cannot be written.
func Reserve(n int) (release func(), err error) {
	return reserve(sysPool{path: nrHugePagesPath}, n)
}

// ReserveOrSkip reserves n huge pages for the rest of the test, or skips the
// test when they cannot be reserved. Cleanups run last-registered first, so
// regions the test closes in its own later cleanups are unmapped before the
// pages go back.
func ReserveOrSkip(tb testing.TB, n int) {
	tb.Helper()
	release, err := Reserve(n)
	if err != nil {
		tb.Skipf("cannot reserve 2 MiB huge pages (needs root and free memory): %v", err)
	}
	tb.Cleanup(release)
}

const (
	nrHugePagesPath = "/proc/sys/vm/nr_hugepages"
	// freeHugePagesPath counts the free pages of the 2 MiB pool: the pool
	// nrHugePagesPath sizes where 2 MiB is the default huge page size
	// (x86-64).
	freeHugePagesPath = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
)

// pool is the kernel's huge page pool, or a stand-in in tests.
type pool interface {
	// lock takes the pool's exclusive lock.
	lock() (unlock func(), err error)
	get() (int, error)
	// set asks for n pages; the kernel may grant fewer.
	set(n int) error
	// free returns how many pages are free.
	free() int
}

func reserve(p pool, n int) (func(), error) {
	unlock, err := p.lock()
	if err != nil {
		return nil, err
	}
	granted, err := grow(p, n)
	free := p.free()
	unlock()
	if err != nil {
		return nil, err
	}
	var once sync.Once
	release := func() { once.Do(func() { shrink(p, granted) }) }
	if granted < n {
		release()
		return nil, fmt.Errorf("asked the kernel for %d more huge pages, it granted %d", n, granted)
	}
	if free < n {
		release()
		return nil, fmt.Errorf("asked the kernel for %d huge pages, %d free", n, free)
	}
	return release, nil
}

// grow raises the pool by up to n pages, with the lock held, and returns
// how many the kernel granted (read back after the write).
func grow(p pool, n int) (int, error) {
	before, err := p.get()
	if err != nil {
		return 0, err
	}
	if err := p.set(before + n); err != nil {
		return 0, err
	}
	after, err := p.get()
	if err != nil {
		// Unknown: assume nothing granted rather than shrink someone else's share.
		return 0, err
	}
	return max(0, min(n, after-before)), nil
}

// shrink lowers the pool by granted pages under the lock.
func shrink(p pool, granted int) {
	if granted == 0 {
		return
	}
	unlock, err := p.lock()
	if err != nil {
		return
	}
	defer unlock()
	if cur, err := p.get(); err == nil {
		_ = p.set(max(0, cur-granted))
	}
}

// sysPool is a pool count in a file, /proc/sys/vm/nr_hugepages for the
// kernel's, locked with flock(2) on the file itself.
type sysPool struct{ path string }

func (s sysPool) lock() (func(), error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", s.path, err)
	}
	return func() { f.Close() }, nil // closing the last descriptor releases the lock
}

func (s sysPool) get() (int, error) { return readCount(s.path) }

func (s sysPool) set(n int) error { return os.WriteFile(s.path, []byte(strconv.Itoa(n)), 0o644) }

func (s sysPool) free() int {
	n, _ := readCount(freeHugePagesPath)
	return n
}

// readCount reads a file holding one decimal count, as sysfs and procfs
// show them.
func readCount(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %q", path, b)
	}
	return n, nil
}
