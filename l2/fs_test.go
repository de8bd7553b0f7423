package l2

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
			specs, err := ParseSpecs([]string{fsSpec(dir, extra)})
			if err != nil {
				t.Fatal(err)
			}
			a, err := New(specs[0], Options{Warn: func(string) {}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			fs := a.(*fsAdapter)
			if !tc.statFirst && !noReplaceWorks(t, dir) {
				t.Skipf("the filesystem of %s has no RENAME_NOREPLACE", dir)
			}
			fs.noNoRepl.Store(tc.statFirst)
			var s Scratch
			name := func(idx uint64) string {
				n := s.finalName(idx)
				return filepath.Join(dir, string(n[:len(n)-1]))
			}
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
