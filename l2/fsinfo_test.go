package l2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSys writes a sysfs tree with block devices 8:1 named sda1 and 104:1
// named cciss/c0d0p1 (cciss!c0d0p1 in sysfs) whose ext4 journal_task reads
// task.
func fakeSys(t *testing.T, task string) {
	t.Helper()
	root := t.TempDir()
	for p, body := range map[string]string{
		"dev/block/8:1/uevent":              "MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\n",
		"fs/ext4/sda1/journal_task":         task,
		"dev/block/104:1/uevent":            "MAJOR=104\nMINOR=1\nDEVNAME=cciss/c0d0p1\nDEVTYPE=partition\n",
		"fs/ext4/cciss!c0d0p1/journal_task": task,
	} {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := sysRoot
	sysRoot = root
	t.Cleanup(func() { sysRoot = old })
}

func TestNoJournalDevice(t *testing.T) {
	fakeSys(t, "<none>\n")
	if dev := noJournalDevice(8, 1); dev != "sda1" {
		t.Fatalf("no journal: device %q, want sda1", dev)
	}
	if dev := noJournalDevice(104, 1); dev != "cciss!c0d0p1" {
		t.Fatalf("a device name with a slash: %q, want cciss!c0d0p1", dev)
	}
	if dev := noJournalDevice(8, 2); dev != "" {
		t.Fatalf("unknown device: %q, want none", dev)
	}
	fakeSys(t, "1234\n")
	if dev := noJournalDevice(8, 1); dev != "" {
		t.Fatalf("with a journal (task 1234): %q, want none", dev)
	}
}

// TestNoJournalWarnsOnStores: on ext4 without a journal (this machine's
// temp directory, if it is one) a writable fs adapter warns once, naming
// base_path and the device; a read-only one does not.
func TestNoJournalWarnsOnStores(t *testing.T) {
	dir := t.TempDir()
	fd, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	dev := ext4NoJournal(int(fd.Fd()))
	fd.Close()
	if dev == "" {
		t.Skip("the temp directory is not on ext4 without a journal; TestNoJournalDevice covers the sysfs reading")
	}
	specs, err := ParseSpecs([]string{fsSpec(dir, "")})
	if err != nil {
		t.Fatal(err)
	}
	for _, writable := range []bool{true, false} {
		var warned []string
		a, err := New(specs[0], Options{Writable: writable, Warn: func(s string) { warned = append(warned, s) }})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		want := 0
		if writable {
			want = 1
		}
		if len(warned) != want || want == 1 && !strings.HasPrefix(warned[0], "base_path "+dir+" is on ext4 without a journal ("+dev+")") {
			t.Fatalf("writable %v: warnings %q", writable, warned)
		}
	}
}

// fsNote reports whether a warning is the one about the test directory's
// filesystem, which some machines' temp directories get.
func fsNote(w any) bool {
	s, _ := w.(string)
	return strings.Contains(s, "is on ext4 without a journal")
}
