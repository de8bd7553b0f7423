package l2

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CacheDropper is implemented by adapters whose data sits behind the page
// cache. DropCaches makes the next reads of keys [0, n) come from the
// device. It can take long (flushing gigabytes of dirty pages) and returns
// ctx's error as soon as ctx is cancelled (Ctrl-C).
type CacheDropper interface {
	DropCaches(ctx context.Context, n uint64, systemWide bool) (how string, err error)
}

// DropCaches flushes dirty data and evicts the page cache: as root the
// whole machine's (sync, echo 3 > /proc/sys/vm/drop_caches, what LMCache's
// doc tells users to do by hand), otherwise, or when systemWide is false,
// each bench file's pages with posix_fadvise(POSIX_FADV_DONTNEED) after
// fdatasync. A cancelled ctx stops it between two files, or, system-wide,
// at once (the sync already running goes on in the kernel; the caches are
// then not dropped).
func (a *fsAdapter) DropCaches(ctx context.Context, n uint64, systemWide bool) (string, error) {
	if systemWide && os.Geteuid() == 0 {
		if ok, err := a.dropSystemWide(ctx); ok || err != nil {
			return "drop_caches", err
		}
	}
	var s Scratch
	dropped := 0
	how := func() string { return "fadvise(" + strconv.Itoa(dropped) + " files)" }
	for idx := uint64(0); idx < n; idx++ {
		if err := ctx.Err(); err != nil {
			return how(), err
		}
		fd, err := openat(a.dir, s.finalName(idx), unix.O_RDONLY, 0)
		if err != nil {
			continue // not stored: nothing cached
		}
		_ = unix.Fdatasync(fd)
		err = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
		unix.Close(fd)
		if err != nil {
			return "fadvise", fmt.Errorf("posix_fadvise(DONTNEED): %w", err)
		}
		dropped++
	}
	return how(), nil
}

// dropSystemWide runs syncfs on the bench filesystem and then writes 3 to
// /proc/sys/vm/drop_caches, on a goroutine of its own with a descriptor of
// its own, so a Ctrl-C does not wait for them (and the adapter can be
// closed meanwhile). It reports whether the caches were dropped, or ctx's
// error.
func (a *fsAdapter) dropSystemWide(ctx context.Context) (bool, error) {
	fd, err := unix.Dup(a.dir)
	if err != nil {
		return false, nil
	}
	done := make(chan bool, 1)
	go func() {
		defer unix.Close(fd)
		_ = unix.Syncfs(fd)
		if ctx.Err() != nil {
			done <- false
			return
		}
		done <- os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200) == nil
	}()
	select {
	case ok := <-done:
		return ok, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// dropCaches runs before lookup and load with --drop-caches. A Ctrl-C
// during it ends it; the caller then runs no further operation.
func (r *runner) dropCaches(op Op) {
	d, ok := r.adapter.(CacheDropper)
	if !ok {
		return
	}
	n := uint64((r.cfg.Warmup + r.cfg.Rounds) * r.cfg.KeysPerRound())
	n = max(n, r.stored)
	how, err := d.DropCaches(r.ctx, n, true)
	if err != nil {
		if r.ctx.Err() == nil {
			r.cfg.Warn(fmt.Sprintf("--drop-caches before %s: %v", op, err))
		}
		return
	}
	r.log(fmt.Sprintf("[%s] Dropped the page cache (%s).", op.Label(), how))
	r.out.Event("drop_caches").Str("op", op.String()).Str("how", how).Send()
}
