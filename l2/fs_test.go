package l2

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestStorePublication checks both ways the fs adapter publishes a key:
// RENAME_NOREPLACE (the default) and LMCache's stat-then-rename (the
// fallback for filesystems without it), with and without relative_tmp_dir.
// A new key lands under its final name with the payload; a key whose final
// file exists is Skipped and its file left as it was; no temp file is left
// behind either way.
func TestStorePublication(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statFirst bool
		tmpDir    string
	}{
		{"noreplace", false, ""},
		{"noreplace, relative_tmp_dir", false, "tmp"},
		{"stat first", true, ""},
		{"stat first, relative_tmp_dir", true, "tmp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			extra := ""
			if tc.tmpDir != "" {
				extra = `,"relative_tmp_dir":"` + tc.tmpDir + `"`
			}
			fs := openTestFS(t, dir, extra, false)
			if !tc.statFirst && !noReplaceWorks(t, dir) {
				t.Skipf("the filesystem of %s has no RENAME_NOREPLACE", dir)
			}
			fs.noNoRepl.Store(tc.statFirst)
			var s Scratch
			name := func(idx uint64) string { return filepath.Join(dir, string(AppendBenchName(nil, idx))) }
			payload := bytes.Repeat([]byte{0xab}, 8192)
			old := []byte("written by somebody else")
			if err := os.WriteFile(name(2), old, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct {
				idx  uint64
				want Status
				file []byte
			}{{1, OK, payload}, {2, Skipped, old}} {
				o := fs.Store(&s, k.idx, payload)
				if o.Status != k.want || o.Err != nil {
					t.Fatalf("key %d: %+v, want %v", k.idx, o, k.want)
				}
				if got, err := os.ReadFile(name(k.idx)); err != nil || !bytes.Equal(got, k.file) {
					t.Fatalf("key %d: file %q (%v)", k.idx, got[:min(len(got), 32)], err)
				}
			}
			if fs.noNoRepl.Load() != tc.statFirst {
				t.Errorf("fallback flag %v, want %v", fs.noNoRepl.Load(), tc.statFirst)
			}
			tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
			more, _ := filepath.Glob(filepath.Join(dir, tc.tmpDir, "*.data"))
			if tc.tmpDir == "" {
				more = nil
			}
			if len(tmps)+len(more) != 0 {
				t.Errorf("temp files left: %v %v", tmps, more)
			}
		})
	}
}

// TestStoreInPlace: with Options.InPlace a store creates its final file
// and writes it there, with no temp file and no rename (inotify sees a
// create of the final name and no move), while the default protocol moves
// a temp file into place; a present key is Skipped and left as it was.
func TestStoreInPlace(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		dir := t.TempDir()
		a := openTestFS(t, dir, "", inPlace)
		var s Scratch
		final := func(idx uint64) string { return string(AppendBenchName(nil, idx)) }
		old := []byte("written by somebody else")
		if err := os.WriteFile(filepath.Join(dir, final(2)), old, 0o644); err != nil {
			t.Fatal(err)
		}
		events := watchDir(t, dir)
		payload := bytes.Repeat([]byte{0xcd}, 8192)
		if o := a.Store(&s, 1, payload); o.Status != OK || o.Bytes != len(payload) {
			t.Fatalf("in-place %v: key 1: %+v", inPlace, o)
		}
		if o := a.Store(&s, 2, payload); o.Status != Skipped {
			t.Fatalf("in-place %v: present key 2: %+v, want Skipped", inPlace, o)
		}
		for idx, want := range map[uint64][]byte{1: payload, 2: old} {
			if got, err := os.ReadFile(filepath.Join(dir, final(idx))); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("in-place %v: key %d: file %q (%v)", inPlace, idx, got[:min(len(got), 32)], err)
			}
		}
		created, moved := events()
		if inPlace && (moved != 0 || created[0] != final(1)) {
			t.Errorf("in-place: created %q, %d moved into place; want %s created, none moved", created, moved, final(1))
		}
		if !inPlace && (moved != 1 || !strings.HasSuffix(created[0], ".tmp")) {
			t.Errorf("rename: created %q, %d moved into place; want a .tmp created and 1 moved", created, moved)
		}
	}
}

// TestStoreDirectRefusedMidRun: a filesystem that refuses O_DIRECT
// creates the file before it says EINVAL. A store then goes buffered and
// still writes its key, in place (O_EXCL must not find its own empty
// file and skip the key) as with the rename.
func TestStoreDirectRefusedMidRun(t *testing.T) {
	t.Cleanup(func() { openFile = openat })
	openFile = func(dirfd int, name []byte, flags int, mode uint32) (int, error) {
		if flags&unix.O_DIRECT == 0 {
			return openat(dirfd, name, flags, mode)
		}
		fd, err := openat(dirfd, name, flags&^unix.O_DIRECT, mode)
		if err != nil {
			return fd, err
		}
		unix.Close(fd)
		return -1, unix.EINVAL
	}
	for _, inPlace := range []bool{false, true} {
		dir := t.TempDir()
		fs := openTestFS(t, dir, `,"use_odirect":true`, inPlace)
		a := Adapter(fs)
		if fs.bsize <= 0 || 8192%fs.bsize != 0 {
			t.Skipf("block size %d of %s", fs.bsize, dir)
		}
		var s Scratch
		payload := bytes.Repeat([]byte{0xef}, 8192)
		if o := a.Store(&s, 3, payload); o.Status != OK || o.Direct || o.Bytes != len(payload) {
			t.Fatalf("in-place %v: %+v, want a buffered OK", inPlace, o)
		}
		if got, err := os.ReadFile(filepath.Join(dir, string(AppendBenchName(nil, 3)))); err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("in-place %v: %d bytes on disk (%v)", inPlace, len(got), err)
		}
		if !fs.noDirect.Load() {
			t.Errorf("in-place %v: O_DIRECT not marked refused", inPlace)
		}
	}
}

// openTestFS opens an fs adapter on dir (extra: more spec keys), closed
// when the test ends.
func openTestFS(t *testing.T, dir, extra string, inPlace bool) *fsAdapter {
	t.Helper()
	specs, err := ParseSpecs([]string{fsSpec(dir, extra)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(specs[0], Options{Warn: func(string) {}, InPlace: inPlace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a.(*fsAdapter)
}

// watchDir watches dir with inotify; the returned func reports the names
// created so far (at least one entry, "" for none) and how many entries
// were moved into dir.
func watchDir(t *testing.T, dir string) func() ([]string, int) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		t.Skipf("inotify watch: %v", err)
	}
	return func() ([]string, int) {
		created, moved := []string{}, 0
		buf := make([]byte, 64<<10)
		n, _ := unix.Read(fd, buf)
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameAt := off + unix.SizeofInotifyEvent
			name := string(bytes.TrimRight(buf[nameAt:nameAt+int(ev.Len)], "\x00"))
			if ev.Mask&unix.IN_CREATE != 0 {
				created = append(created, name)
			}
			if ev.Mask&unix.IN_MOVED_TO != 0 {
				moved++
			}
			off = nameAt + int(ev.Len)
		}
		return append(created, ""), moved
	}
}

// noReplaceWorks probes renameat2(RENAME_NOREPLACE) in dir.
func noReplaceWorks(t *testing.T, dir string) bool {
	t.Helper()
	from, to := filepath.Join(dir, "probe.from"), filepath.Join(dir, "probe.to")
	if err := os.WriteFile(from, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(from)
	defer os.Remove(to)
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE) == nil
}

// TestNoReplaceRefusedWarnsOnce: when the filesystem refuses
// RENAME_NOREPLACE, stores switch to stat-then-rename and say so once.
func TestNoReplaceRefusedWarnsOnce(t *testing.T) {
	specs, err := ParseSpecs([]string{fsSpec(t.TempDir(), "")})
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	a, err := New(specs[0], Options{Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fs := a.(*fsAdapter)
	fs.refuseNoReplace(unix.EINVAL)
	fs.refuseNoReplace(unix.EINVAL)
	if !fs.noNoRepl.Load() || len(warned) != 1 || !strings.Contains(warned[0], "stat-then-rename") {
		t.Fatalf("fallback %v, warnings %q", fs.noNoRepl.Load(), warned)
	}
}

// TestDirectRefusedBeforeTheStores: on a filesystem without O_DIRECT
// (ramfs), use_odirect is found refused when a run that stores creates the
// adapter: one warning, no probe file left behind, and the stores, now
// buffered, get the buffered-store cap. Needs to mount a ramfs (root);
// skipped otherwise.
func TestDirectRefusedBeforeTheStores(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("lmfast-test", dir, "ramfs", 0, ""); err != nil {
		t.Skipf("cannot mount a ramfs here (needs root): %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	cfg := testConfig(t, dirSpec("fs_native", dir, `,"use_odirect":true`))
	cfg.IOWorkers, cfg.BufferedStoreWorkers = 4, 2
	var warned []string
	cfg.Warn = func(s string) { warned = append(warned, s) }
	res, _ := runCfg(t, cfg)
	if v := Judge(res); !v.OK() {
		t.Fatalf("verdict %+v", v)
	}
	refused := 0
	for _, w := range warned {
		if strings.Contains(w, "refuses O_DIRECT") {
			refused++
		}
	}
	if refused != 1 || res.StoreWorkers != 2 {
		t.Fatalf("%d O_DIRECT refusals warned (%q), %d storing at once; want 1 and 2", refused, warned, res.StoreWorkers)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n.Name(), ".lmfast-odirect-probe") {
			t.Fatalf("probe file left behind: %s", n.Name())
		}
	}
}

// directWorks reports whether files in dir can be opened with O_DIRECT.
func directWorks(t *testing.T, dir string) bool {
	t.Helper()
	fd, err := unix.Open(filepath.Join(dir, "direct-probe"), unix.O_CREAT|unix.O_WRONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0o600)
	_ = os.Remove(filepath.Join(dir, "direct-probe"))
	switch err {
	case nil:
		unix.Close(fd)
		return true
	case unix.EINVAL:
		return false
	}
	t.Fatal(err)
	return false
}
