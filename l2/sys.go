package l2

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thin wrappers over the *at syscalls that take a NUL-terminated name in a
// caller-owned buffer, so the per-key path never converts []byte to string
// (x/sys/unix's wrappers allocate a C string per call). name must end in 0.

func namePtr(name []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(name))) }

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// fstatat stats name relative to dirfd.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), namePtr(name), uintptr(unsafe.Pointer(st)), 0, 0, 0)
	return errnoErr(e)
}

// openat opens name relative to dirfd, retrying on EINTR.
func openat(dirfd int, name []byte, flags int, mode uint32) (int, error) {
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), namePtr(name), uintptr(flags|unix.O_CLOEXEC), uintptr(mode), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

// renameat renames oldName in oldDir to newName in newDir (replacing it).
func renameat(oldDir int, oldName []byte, newDir int, newName []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_RENAMEAT, uintptr(oldDir), namePtr(oldName), uintptr(newDir), namePtr(newName), 0, 0)
	return errnoErr(e)
}

// renameatNoReplace is renameat that fails with EEXIST instead of
// replacing an existing newName (renameat2 with RENAME_NOREPLACE; EINVAL
// on filesystems without it).
func renameatNoReplace(oldDir int, oldName []byte, newDir int, newName []byte) error {
	_, _, e := unix.Syscall6(unix.SYS_RENAMEAT2, uintptr(oldDir), namePtr(oldName), uintptr(newDir), namePtr(newName), unix.RENAME_NOREPLACE, 0)
	return errnoErr(e)
}

// unlinkat removes name relative to dirfd.
func unlinkat(dirfd int, name []byte) error {
	_, _, e := unix.Syscall(unix.SYS_UNLINKAT, uintptr(dirfd), namePtr(name), 0)
	return errnoErr(e)
}

// pwriteFull writes all of buf at offset 0 onwards, looping on short writes
// and EINTR. A write that makes no progress is an error (ENOSPC is reported
// by the kernel; a zero return is reported as io.ErrShortWrite's errno).
func pwriteFull(fd int, buf []byte) (int, error) {
	done := 0
	for done < len(buf) {
		n, err := unix.Pwrite(fd, buf[done:], int64(done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, unix.EIO
		}
		done += n
	}
	return done, nil
}

// preadFull reads into buf from offset 0 until it is full or the file ends,
// looping on short reads and EINTR, and returns the bytes read.
func preadFull(fd int, buf []byte, off int) (int, error) {
	done := 0
	for done < len(buf) {
		n, err := unix.Pread(fd, buf[done:], int64(off+done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}
