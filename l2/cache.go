package l2

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CacheDropper is implemented by adapters whose data sits behind the page
// cache. DropCaches makes the next reads of keys [0, n) come from the
// device.
type CacheDropper interface {
	DropCaches(n uint64, systemWide bool) (how string, err error)
}

// DropCaches flushes dirty data and evicts the page cache: as root the
// whole machine's (sync, echo 3 > /proc/sys/vm/drop_caches, what LMCache's
// doc tells users to do by hand), otherwise, or when systemWide is false,
// each bench file's pages with posix_fadvise(POSIX_FADV_DONTNEED) after
// fdatasync.
func (a *fsAdapter) DropCaches(n uint64, systemWide bool) (string, error) {
	if systemWide && os.Geteuid() == 0 {
		_ = unix.Syncfs(a.dir)
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200); err == nil {
			return "drop_caches", nil
		}
	}
	var s Scratch
	dropped := 0
	for idx := uint64(0); idx < n; idx++ {
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
	return "fadvise(" + strconv.Itoa(dropped) + " files)", nil
}

// dropCaches runs before lookup and load with --drop-caches.
func (r *runner) dropCaches(op Op) {
	d, ok := r.adapter.(CacheDropper)
	if !ok {
		return
	}
	n := uint64((r.cfg.Warmup + r.cfg.Rounds) * r.cfg.KeysPerRound())
	n = max(n, r.stored)
	how, err := d.DropCaches(n, true)
	if err != nil {
		r.cfg.Warn(fmt.Sprintf("--drop-caches before %s: %v", op, err))
		return
	}
	r.log(fmt.Sprintf("[%s] Dropped the page cache (%s).", op.Label(), how))
	r.out.Event("drop_caches").Str("op", op.String()).Str("how", how).Send()
}

func appendInt(b []byte, v int64) []byte   { return strconv.AppendInt(b, v, 10) }
func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }
func appendBool(b []byte, v bool) []byte   { return strconv.AppendBool(b, v) }

// appendMicros appends ns as microseconds with 3 decimals.
func appendMicros(b []byte, ns int64) []byte {
	return strconv.AppendFloat(b, float64(ns)/1e3, 'f', 3, 64)
}
