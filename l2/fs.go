package l2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// fsAdapter is LMCache's fs and fs_native adapter: one file per key in
// base_path, written to a temp file and renamed into place (or, with
// Options.InPlace, written under its final name), skipped if present,
// read back whole. All names are resolved relative to directory
// file descriptors opened once.
type fsAdapter struct {
	base      string
	dir       int         // base_path
	tmpDir    int         // base_path/relative_tmp_dir, or dir
	tmpSame   bool        // temp files are <name>.tmp in dir
	native    bool        // fs_native: files 0644 on both paths, read-ahead on both paths
	odirect   bool        // use_odirect
	bsize     int         // statvfs(base_path).f_bsize, with use_odirect
	readAhead int         // read_ahead_size (0: unset)
	headRead  int         // Options.HeadRead: the split of buffered loads without read_ahead_size
	inPlace   bool        // Options.InPlace: stores write the final file, no temp file or rename
	noDirect  atomic.Bool // set when the filesystem refused O_DIRECT
	noNoRepl  atomic.Bool // set when the filesystem refused RENAME_NOREPLACE
	warn      func(string)
	cap       *capacity // max_capacity_gb > 0: byte accounting (capacity.go)
	ev        *evictor  // with an eviction block that evicts (eviction.go)
	eviction  Eviction
}

func newFS(s Spec, opt Options) (*fsAdapter, error) {
	if err := os.MkdirAll(s.BasePath, 0o777); err != nil {
		return nil, err
	}
	a := &fsAdapter{dir: -1, tmpDir: -1, base: s.BasePath, native: s.Type == "fs_native", odirect: s.UseODirect,
		readAhead: int(min(s.ReadAheadSize, 1<<40)), headRead: max(opt.HeadRead, 0), inPlace: opt.InPlace, warn: opt.Warn, tmpSame: true}
	fd, err := unix.Open(s.BasePath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open base_path %s: %w", s.BasePath, err)
	}
	a.dir, a.tmpDir = fd, fd
	if rel := s.RelativeTmpDir; rel != "" && filepath.Clean(rel) != "." {
		// "" is unset, as fs_native treats it; so is a path that cleans to
		// ".", which would make the temp path the final path (an in-place,
		// non-atomic write, as LMCache's fs does with "").
		if filepath.IsAbs(rel) || hasDotDot(rel) {
			a.Close()
			return nil, fmt.Errorf("Invalid relative_tmp_dir: %s", rel)
		}
		p := filepath.Join(s.BasePath, rel)
		if err := os.Mkdir(p, 0o777); err != nil && !(errors.Is(err, os.ErrExist) && isDir(p)) {
			a.Close()
			return nil, err
		}
		tfd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("open relative_tmp_dir %s: %w", p, err)
		}
		a.tmpDir = tfd
		a.tmpSame = false
	}
	if s.UseODirect {
		var st unix.Statfs_t
		if err := unix.Fstatfs(a.dir, &st); err == nil {
			a.bsize = int(st.Bsize)
		}
	}
	if opt.Writable {
		for _, d := range []string{s.BasePath, filepath.Join(s.BasePath, s.RelativeTmpDir)} {
			if err := unix.Access(d, unix.W_OK); err != nil {
				a.Close()
				return nil, fmt.Errorf("%s is not writable: %w", d, err)
			}
		}
		if dev := ext4NoJournal(a.createDir()); dev != "" {
			a.warn(noJournalWarning(s.BasePath, dev))
		}
		if a.odirect && a.bsize > 0 {
			a.probeDirect()
		}
	}
	a.setupCapacity(s)
	return a, nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// direct reports whether a transfer of n bytes uses O_DIRECT: use_odirect,
// n a multiple of the filesystem block size (LMCache's rule; otherwise that
// file is buffered), and the filesystem has not refused O_DIRECT before.
func (a *fsAdapter) direct(n int) bool {
	return a.odirect && a.bsize > 0 && n%a.bsize == 0 && !a.noDirect.Load()
}

// refuseDirect records that open(O_DIRECT) failed with EINVAL: the
// filesystem (tmpfs, some FUSE) has no O_DIRECT. lmfast then goes buffered
// and says so once, where LMCache fails every key.
func (a *fsAdapter) refuseDirect() {
	if !a.noDirect.Swap(true) {
		a.warn(fmt.Sprintf("use_odirect: the filesystem of %s refuses O_DIRECT (EINVAL); using buffered I/O", a.base))
	}
}

// createDir is the directory stores create their files in: base_path
// with Options.InPlace, else where the temp files go.
func (a *fsAdapter) createDir() int {
	if a.inPlace {
		return a.dir
	}
	return a.tmpDir
}

// probeDirect creates and removes a file opened with O_DIRECT where stores
// create their files, so that a filesystem without O_DIRECT is known
// (and warned about) before the run sizes its store threads, rather than
// at the first store. Any failure but EINVAL is left to the stores. The
// kernel creates the file before it refuses O_DIRECT, so it is removed
// whatever the open returned; one left by a run killed with the same pid
// is removed and the probe tried again.
func (a *fsAdapter) probeDirect() {
	name := []byte(fmt.Sprintf(".lmfast-odirect-probe.%d\x00", os.Getpid()))
	dir := a.createDir()
	for try := 0; try < 2; try++ {
		fd, err := openFile(dir, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_DIRECT, 0o600)
		if err == nil {
			unix.Close(fd)
		}
		_ = unlinkat(dir, name)
		if err == unix.EINVAL {
			a.refuseDirect()
		}
		if err != unix.EEXIST {
			return
		}
	}
}

// Store publishes buf as key idx the way LMCache's adapter does: the whole
// payload into the temp file, close, rename to the final name; a key whose
// final file exists is left alone (Skipped). LMCache checks with a stat()
// before writing; lmfast lets the rename check instead (RENAME_NOREPLACE),
// which leaves the same files and needs one directory lookup fewer per key
// (taken under the directory's lock that every create and rename of the
// store serialises on), and cannot replace a file another writer published
// in between. A key found present costs a discarded write instead of a
// stat; such a store is warned about anyway. Filesystems without
// RENAME_NOREPLACE get LMCache's stat-then-rename. With Options.InPlace
// the final file is written directly (storeInPlace).
func (a *fsAdapter) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	if a.cap != nil {
		return a.cap.store(a, s, idx, buf)
	}
	return a.store(s, idx, buf)
}

func (a *fsAdapter) store(s *Scratch, idx uint64, buf []byte) Outcome {
	if a.inPlace {
		return a.storeInPlace(s, idx, buf)
	}
	final := s.finalName(idx)
	statFirst := a.noNoRepl.Load()
	if statFirst && a.exists(final) {
		return Outcome{Status: Skipped}
	}
	tmp := s.tmpName(idx, a.tmpSame)
	n, direct, created, err := a.writeFile(a.tmpDir, tmp, buf, false)
	if !created {
		return failed("store: create temp file", err)
	}
	if err != nil {
		_ = unlinkat(a.tmpDir, tmp)
		return failed("store: write", err)
	}
	switch err := a.publish(tmp, final, statFirst); err {
	case nil:
		return Outcome{Status: OK, Bytes: n, Direct: direct}
	case unix.EEXIST:
		_ = unlinkat(a.tmpDir, tmp)
		return Outcome{Status: Skipped}
	default:
		_ = unlinkat(a.tmpDir, tmp)
		return failed("store: rename temp file", err)
	}
}

// storeInPlace writes buf as key idx's final file directly: create
// (O_EXCL: a present key is Skipped, as with the rename), write, close.
// One directory modification per key, where the rename protocol has two
// (the temp file's create and the rename) under the directory's lock.
func (a *fsAdapter) storeInPlace(s *Scratch, idx uint64, buf []byte) Outcome {
	final := s.finalName(idx)
	n, direct, created, err := a.writeFile(a.dir, final, buf, true)
	switch {
	case !created && err == unix.EEXIST:
		return Outcome{Status: Skipped}
	case !created:
		return failed("store: create file", err)
	case err != nil:
		_ = unlinkat(a.dir, final)
		return failed("store: write", err)
	}
	return Outcome{Status: OK, Bytes: n, Direct: direct}
}

// writeFile creates name in directory dirfd (excl: with O_EXCL), writes
// buf and closes it; buffered when the filesystem refuses O_DIRECT.
// created reports whether the create succeeded: after a failed write the
// file is left for the caller to remove.
func (a *fsAdapter) writeFile(dirfd int, name, buf []byte, excl bool) (n int, direct, created bool, err error) {
	direct = a.direct(len(buf))
	fd, err := a.openWrite(dirfd, name, direct, excl)
	if err == unix.EINVAL && direct {
		a.refuseDirect()
		direct = false
		if excl {
			// The kernel created the file before it refused O_DIRECT;
			// O_EXCL means this open did, so it is ours to remove.
			_ = unlinkat(dirfd, name)
		}
		fd, err = a.openWrite(dirfd, name, false, excl)
	}
	if err != nil {
		return 0, direct, false, err
	}
	n, err = pwriteFull(fd, buf)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	return n, direct, true, err
}

// publish renames the written temp file to its final name, or returns
// EEXIST when the final file is present: with RENAME_NOREPLACE unless the
// store already stat'ed first (statFirst) or the filesystem refuses it, in
// which case it checks with a stat and renames as LMCache does.
func (a *fsAdapter) publish(tmp, final []byte, statFirst bool) error {
	if !statFirst {
		switch err := renameatNoReplace(a.tmpDir, tmp, a.dir, final); err {
		case unix.EINVAL, unix.ENOSYS, unix.EPERM:
			a.refuseNoReplace(err)
			if a.exists(final) {
				return unix.EEXIST
			}
		default:
			return err
		}
	}
	return renameat(a.tmpDir, tmp, a.dir, final)
}

// refuseNoReplace records that renameat2(RENAME_NOREPLACE) was refused
// (EINVAL: the filesystem lacks it; ENOSYS or EPERM: the kernel or a
// seccomp filter) and says once that stores now stat first, as LMCache.
func (a *fsAdapter) refuseNoReplace(err error) {
	if !a.noNoRepl.Swap(true) {
		a.warn(fmt.Sprintf("store: renameat2(RENAME_NOREPLACE) refused in %s (%v); publishing with stat-then-rename, as LMCache does", a.base, err))
	}
}

// exists reports whether the final file name is present in base_path.
func (a *fsAdapter) exists(final []byte) bool {
	var st unix.Stat_t
	return fstatat(a.dir, final, &st) == nil
}

// openFile is the open a store's create goes through (openat; tests
// replace it to act as a filesystem that refuses O_DIRECT).
var openFile = openat

// openWrite creates (or, unless excl, truncates) name in directory dirfd
// for a store, with LMCache's modes.
func (a *fsAdapter) openWrite(dirfd int, name []byte, direct, excl bool) (int, error) {
	flags, mode := unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, uint32(0o666)
	if a.native {
		mode = 0o644
	}
	if direct {
		flags, mode = flags|unix.O_DIRECT, 0o644
	}
	if excl {
		flags |= unix.O_EXCL
	}
	return openFile(dirfd, name, flags, mode)
}

func (a *fsAdapter) Lookup(s *Scratch, idx uint64) Outcome {
	var st unix.Stat_t
	switch err := fstatat(a.dir, s.finalName(idx), &st); err {
	case nil:
		return Outcome{Status: OK}
	case unix.ENOENT, unix.ENOTDIR:
		return Outcome{Status: Missing}
	default:
		return failed("lookup: stat", err)
	}
}

// Load reads key idx into buf. With a capacity, a loaded key becomes the
// most recently used, and a key the adapter evicted is an evicted miss.
func (a *fsAdapter) Load(s *Scratch, idx uint64, buf []byte) Outcome {
	if a.cap != nil {
		return a.cap.load(a, s, idx, buf)
	}
	return a.load(s, idx, buf)
}

func (a *fsAdapter) load(s *Scratch, idx uint64, buf []byte) Outcome {
	final := s.finalName(idx)
	direct := a.direct(len(buf))
	flags := unix.O_RDONLY
	if direct {
		flags |= unix.O_DIRECT
	}
	fd, err := openat(a.dir, final, flags, 0)
	if err == unix.EINVAL && direct {
		a.refuseDirect()
		direct = false
		fd, err = openat(a.dir, final, unix.O_RDONLY, 0)
	}
	if err != nil {
		return failed("load: open", err)
	}
	n, err := a.read(fd, buf, direct)
	unix.Close(fd)
	return loadOutcome(n, len(buf), err, direct)
}

// loadOutcome is a load that read n of want bytes and ended with err: a
// read error is reported as such, however many bytes came before it; only
// a read that reached the end of the file early is a short file.
func loadOutcome(n, want int, err error, direct bool) Outcome {
	switch {
	case err != nil:
		o := failed("load: read", err)
		o.Bytes, o.Direct = n, direct
		return o
	case n != want:
		return Outcome{Status: Failed, Bytes: n, Direct: direct, Err: errShortRead}
	}
	return Outcome{Status: OK, Bytes: n, Direct: direct}
}

// errShortRead is a load of a file shorter than the payload (truncated
// after the store, or written by a run with another --data-size-kb).
var errShortRead = errors.New("load: file shorter than the payload (truncated?)")

// read fills buf from fd, with LMCache's read-ahead split: read the first
// read_ahead_size bytes and, only if all arrived, the rest. fs applies it
// to buffered reads only, fs_native to both (lmfast skips it under O_DIRECT
// when the split would be unaligned). Without read_ahead_size, a buffered
// read is split at headRead the same way.
func (a *fsAdapter) read(fd int, buf []byte, direct bool) (int, error) {
	ra := a.readSplit(len(buf), direct)
	if ra == 0 {
		return preadFull(fd, buf, 0)
	}
	head, err := preadFull(fd, buf[:ra], 0)
	if err != nil || head < ra {
		return head, err
	}
	tail, err := preadFull(fd, buf[ra:], ra)
	return head + tail, err
}

// readSplit is where a read of n bytes is split (0: not split):
// read_ahead_size as LMCache splits, else headRead for a buffered read.
func (a *fsAdapter) readSplit(n int, direct bool) int {
	switch {
	case a.splitRead(n, direct):
		return a.readAhead
	case a.readAhead == 0 && !direct && a.headRead > 0 && n > a.headRead:
		return a.headRead
	}
	return 0
}

// splitRead reports whether a read of n bytes is split at read_ahead_size:
// fs on buffered reads only, fs_native on O_DIRECT reads too when the split
// stays block-aligned.
func (a *fsAdapter) splitRead(n int, direct bool) bool {
	ra := a.readAhead
	return ra > 0 && n > ra && (!direct || (a.native && a.bsize > 0 && ra%a.bsize == 0))
}

func (a *fsAdapter) Close() error {
	if a.ev != nil {
		a.ev.close()
		a.ev = nil
	}
	if a.tmpDir != a.dir && a.tmpDir >= 0 {
		unix.Close(a.tmpDir)
	}
	if a.dir >= 0 {
		unix.Close(a.dir)
	}
	a.dir, a.tmpDir = -1, -1
	return nil
}

// failed wraps a syscall error with what was being done; the key is left
// out so that equal causes aggregate into one error line.
func failed(what string, err error) Outcome {
	return Outcome{Status: Failed, Err: fmt.Errorf("%s: %w", what, err)}
}
