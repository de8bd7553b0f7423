package l2

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// sysRoot is where sysfs is mounted (a test points it at a fake tree).
var sysRoot = "/sys"

// ext4NoJournal returns the block device name of the filesystem of the
// directory dirfd when it is ext4 mounted without a journal, else "".
// There an inode deleted in the last minute is not reused while its
// inode table block is cached: every file creation steps over each such
// inode under the directory's lock (docs/performance.md, "L2: buffered
// stores").
func ext4NoJournal(dirfd int) string {
	var fs unix.Statfs_t
	if unix.Fstatfs(dirfd, &fs) != nil || fs.Type != unix.EXT4_SUPER_MAGIC {
		return ""
	}
	var st unix.Stat_t
	if unix.Fstat(dirfd, &st) != nil {
		return ""
	}
	return noJournalDevice(unix.Major(st.Dev), unix.Minor(st.Dev))
}

// noJournalDevice returns the name of block device major:minor when sysfs
// says its ext4 filesystem has no journal (journal_task "<none>"), else "".
func noJournalDevice(major, minor uint32) string {
	uevent, err := os.ReadFile(filepath.Join(sysRoot, "dev/block", fmt.Sprintf("%d:%d", major, minor), "uevent"))
	if err != nil {
		return ""
	}
	var dev string
	for _, line := range strings.Split(string(uevent), "\n") {
		if name, ok := strings.CutPrefix(line, "DEVNAME="); ok {
			dev = strings.ReplaceAll(name, "/", "!") // sysfs's name for cciss/c0d0p1
		}
	}
	if dev == "" {
		return ""
	}
	task, err := os.ReadFile(filepath.Join(sysRoot, "fs/ext4", dev, "journal_task"))
	if err != nil || strings.TrimSpace(string(task)) != "<none>" {
		return ""
	}
	return dev
}

// noJournalWarning is the warning a store run on such a filesystem gets.
func noJournalWarning(base, dev string) string {
	return fmt.Sprintf("base_path %s is on ext4 without a journal (%s): files deleted there within the last minute "+
		"slow every file creation while their inode table blocks are cached; stores soon after deleting many files "+
		"measure that (sync; echo 3 > /proc/sys/vm/drop_caches before the run avoids it)", base, dev)
}
