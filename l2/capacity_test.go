package l2

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmpfsOrTemp is a fresh tmpfs when the test runs as root and may mount
// one (unmounted afterwards), else a temp directory: the capacity checks
// are on the adapter's accounting and on the files' sizes, which both
// give.
func tmpfsOrTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m"); err == nil {
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	}
	return dir
}

// gbFor is max_capacity_gb for n bytes, exact for multiples of 4096.
func gbFor(n int64) string { return fmt.Sprintf("%.17g", float64(n)/(1<<30)) }

// diskDataFiles sums the sizes of the *.data files in dir, by stat.
func diskDataFiles(t *testing.T, dir string) (bytes int64, names map[string]bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names = map[string]bool{}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".data") {
			fi, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			bytes += fi.Size()
			names[e.Name()] = true
		}
	}
	return bytes, names
}

func newAdapter(t *testing.T, spec string) *fsAdapter {
	t.Helper()
	specs, err := ParseSpecs([]string{spec})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(specs[0], Options{Writable: true, Warn: func(w string) { t.Log("warning: " + w) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a.(*fsAdapter)
}

func exists(dir string, idx uint64) bool {
	_, err := os.Stat(filepath.Join(dir, BenchKey(idx).FileName()))
	return err == nil
}

// TestEvictionFollowsLRU: ten 4 KiB keys of capacity, LMCache's default
// watermark 0.8 and ratio 0.2. Seven keys stored (0.7), key 0 loaded: the
// eighth store reaches 0.8 and evicts int(8 × 0.2) = 1 key, the least
// recently used — key 1, not key 0, which the load made recent. A lookup
// does not make a key recent; an fs re-store of a present key does not
// either, an fs_native one does (LMCache's native adapter tells its
// listener of every store). A load of an evicted key is an evicted miss;
// a load of a key never stored is still a failure; storing an evicted key
// again makes it loadable.
func TestEvictionFollowsLRU(t *testing.T) {
	for _, typ := range []string{"fs", "fs_native"} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			a := newAdapter(t, dirSpec(typ, dir, `,"max_capacity_gb":`+gbFor(10*4096)+`,"eviction":{"eviction_policy":"LRU"}`))
			var s Scratch
			buf := make([]byte, 4096)
			store := func(idx uint64) {
				t.Helper()
				if o := a.Store(&s, idx, buf); o.Status != OK && o.Status != Skipped {
					t.Fatalf("store %d: %+v", idx, o)
				}
			}
			for idx := uint64(0); idx < 7; idx++ {
				store(idx)
			}
			if o := a.Load(&s, 0, buf); o.Status != OK {
				t.Fatal(o.Err)
			}
			a.Lookup(&s, 1)
			store(7)
			st := a.CapacityStats()
			if st.Evictions != 1 || st.EvictionRuns != 1 || st.UsedBytes != 7*4096 || exists(dir, 1) || !exists(dir, 0) {
				t.Fatalf("after the first eviction: %+v; key 1 on disk %v, key 0 %v", st, exists(dir, 1), exists(dir, 0))
			}
			// Order now 2 3 4 5 6 0 7. Re-store key 2 (present: skipped),
			// then reach the watermark again: fs evicts 2, fs_native 3.
			store(2)
			store(8)
			gone, kept := uint64(2), uint64(3)
			if typ == "fs_native" {
				gone, kept = 3, 2
			}
			if st := a.CapacityStats(); st.Evictions != 2 || exists(dir, gone) || !exists(dir, kept) {
				t.Fatalf("after the re-store of key 2: %+v; want key %d evicted, %d kept", st, gone, kept)
			}
			if o := a.Load(&s, 1, buf); o.Status != Missing || !errors.Is(o.Err, errEvicted) {
				t.Fatalf("load of evicted key 1: %+v, want an evicted miss", o)
			}
			if o := a.Load(&s, 99, buf); o.Status != Failed {
				t.Fatalf("load of a key never stored: %+v, want a failure", o)
			}
			store(1)
			if o := a.Load(&s, 1, buf); o.Status != OK {
				t.Fatalf("load of key 1 stored again: %+v", o)
			}
			st = a.CapacityStats() // waits for the eviction the last store may have started
			if disk, _ := diskDataFiles(t, dir); disk != st.UsedBytes || st.DiskBytes != disk {
				t.Fatalf("accounted %d bytes, %d on disk (stats say %d)", st.UsedBytes, disk, st.DiskBytes)
			}
		})
	}
}

// TestCapacityWithoutEvictionOnlyAccounts: without an eviction block (and
// with the noop policy) the files grow past the capacity, every byte is
// accounted, nothing is evicted.
func TestCapacityWithoutEvictionOnlyAccounts(t *testing.T) {
	for _, extra := range []string{"", `,"eviction":{"eviction_policy":"noop"}`} {
		dir := t.TempDir()
		a := newAdapter(t, fsSpec(dir, `,"max_capacity_gb":`+gbFor(4*4096)+extra))
		var s Scratch
		buf := make([]byte, 4096)
		for idx := uint64(0); idx < 10; idx++ {
			a.Store(&s, idx, buf)
		}
		st := a.CapacityStats()
		if st.Enforced || st.Evictions != 0 || st.UsedBytes != 10*4096 || st.DiskBytes != 10*4096 || st.UsageFraction() != 2.5 {
			t.Fatalf("%q: %+v", extra, st)
		}
	}
}

// TestZeroCapacityKeepsNoAccounts: max_capacity_gb 0 (the default) means
// no capacity, even with an eviction block: no accounting, no eviction
// (LMCache: usage_fraction -1, never evicted).
func TestZeroCapacityKeepsNoAccounts(t *testing.T) {
	dir := t.TempDir()
	a := newAdapter(t, fsSpec(dir, `,"eviction":{"eviction_policy":"LRU","trigger_watermark":0}`))
	var s Scratch
	for idx := uint64(0); idx < 4; idx++ {
		a.Store(&s, idx, make([]byte, 4096))
	}
	if a.cap != nil || a.CapacityStats() != nil {
		t.Fatal("an adapter without a capacity keeps accounts")
	}
	if disk, _ := diskDataFiles(t, dir); disk != 4*4096 {
		t.Fatalf("%d bytes on disk", disk)
	}
}

// writeKeyFile writes a file named name with n bytes and the given mtime.
func writeKeyFile(t *testing.T, dir, name string, n int, mtime time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverOnStart: the key files a previous run left are counted at
// start — regular files whose name parses as a key's, at their size —
// and temp files, symlinks, directories and foreign names are not;
// fs_native also skips a parseable name that is not the key's own
// (LMCache: eviction would delete the canonical path and never free it).
// fs_native's eviction takes the oldest file first (by mtime). A foreign
// key file (another model) counts and is evictable. recover_on_start
// false counts nothing.
func TestRecoverOnStart(t *testing.T) {
	base := time.Now().Add(-time.Hour)
	fill := func(t *testing.T, dir string) {
		for i, idx := range []uint64{3, 1, 2, 0} { // mtimes: key 3 oldest … key 0 newest
			writeKeyFile(t, dir, BenchKey(idx).FileName(), 4096, base.Add(time.Duration(i)*time.Minute))
		}
		other := ObjectKey{ChunkHash: []byte{0xab}, ModelName: "org/other", KVRank: 7}
		writeKeyFile(t, dir, other.FileName(), 8192, base.Add(10*time.Minute))
		writeKeyFile(t, dir, TmpName(BenchKey(5).FileName()), 4096, base)                                     // temp file
		writeKeyFile(t, dir, "notes.data", 4096, base)                                                        // not a key
		writeKeyFile(t, dir, strings.Replace(BenchKey(6).FileName(), "@0x00000006@", "@0x6@", 1), 4096, base) // not canonical
		if err := os.Mkdir(filepath.Join(dir, BenchKey(8).FileName()), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(dir, "notes.data"), filepath.Join(dir, BenchKey(9).FileName())); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		typ         string
		keys, bytes int64
	}{{"fs", 6, 5*4096 + 8192}, {"fs_native", 5, 4*4096 + 8192}} {
		t.Run(tc.typ, func(t *testing.T) {
			dir := t.TempDir()
			fill(t, dir)
			a := newAdapter(t, dirSpec(tc.typ, dir, `,"max_capacity_gb":`+gbFor(1<<20)))
			st := a.CapacityStats()
			if st.Recovery.Keys != tc.keys || st.Recovery.Bytes != tc.bytes || st.UsedBytes != tc.bytes || st.Recovery.Skipped != 10-tc.keys {
				t.Fatalf("recovered %+v, used %d; want %d keys, %d bytes", st.Recovery, st.UsedBytes, tc.keys, tc.bytes)
			}
			var s Scratch
			if o := a.Load(&s, 2, make([]byte, 4096)); o.Status != OK {
				t.Fatalf("load of a recovered key: %+v", o)
			}
		})
	}
	t.Run("oldest first", func(t *testing.T) {
		dir := t.TempDir()
		fill(t, dir)
		// 4 × 4 KiB + 8 KiB = 24 KiB against 25 KiB: 0.96 ≥ 0.9; ratio 0.5
		// of 5 keys: the two oldest, keys 3 and 1, go at start.
		a := newAdapter(t, dirSpec("fs_native", dir, `,"max_capacity_gb":`+gbFor(25*1024)+
			`,"eviction":{"eviction_policy":"LRU","trigger_watermark":0.9,"eviction_ratio":0.5}`))
		st := a.CapacityStats()
		if st.Evictions != 2 || exists(dir, 3) || exists(dir, 1) || !exists(dir, 2) || !exists(dir, 0) {
			t.Fatalf("%+v; keys on disk: 3 %v, 1 %v, 2 %v, 0 %v", st, exists(dir, 3), exists(dir, 1), exists(dir, 2), exists(dir, 0))
		}
		if st.UsedBytes != 2*4096+8192 {
			t.Fatalf("accounted %d, want keys 2 and 0 and the other model's file", st.UsedBytes)
		}
	})
	t.Run("off", func(t *testing.T) {
		dir := t.TempDir()
		fill(t, dir)
		a := newAdapter(t, fsSpec(dir, `,"max_capacity_gb":`+gbFor(1<<20)+`,"recover_on_start":false`))
		if st := a.CapacityStats(); st.Recovery.Scanned || st.UsedBytes != 0 {
			t.Fatalf("recover_on_start false: %+v", st)
		}
	})
}

// TestRunUnderLRUEviction: a whole run storing 11 MiB into a 4 MiB
// capacity with an LRU eviction block, into a tmpfs where possible. The
// files left on disk, by stat, never exceed the capacity and match the
// adapter's accounting; evictions are counted; the loads of evicted keys
// are evicted misses, not failures, so the run passes; the last round's
// keys — the most recent — survive and verify; the summary and its JSONL
// line carry the figures.
func TestRunUnderLRUEviction(t *testing.T) {
	for _, typ := range []string{"fs", "fs_native"} {
		t.Run(typ, func(t *testing.T) {
			dir := tmpfsOrTemp(t)
			cfg := testConfig(t, dirSpec(typ, dir, `,"max_capacity_gb":`+gbFor(4<<20)+`,"eviction":{"eviction_policy":"LRU"}`))
			cfg.NumKeys, cfg.InFlight, cfg.Payload, cfg.Rounds, cfg.Warmup = 8, 2, 64<<10, 10, 1 // 1 MiB a round
			cfg.HitRate, cfg.Verify = 1, true
			var doc []Section
			cfg.BeforeCleanup = func(res *Result) { doc = Document(res, Judge(res).Status()) }
			res, ls := runCfg(t, cfg)
			cs := res.Capacity
			disk, names := diskDataFiles(t, dir)
			if cs == nil || cs.Evictions == 0 || cs.UsedBytes > cs.CapacityBytes || disk > cs.CapacityBytes || disk != cs.UsedBytes ||
				int64(len(names)) != cs.Keys || cs.Evictions+cs.Keys != 11*16 {
				t.Fatalf("capacity %+v; %d bytes in %d files on disk", cs, disk, len(names))
			}
			for idx := uint64(10 * 16); idx < 11*16; idx++ {
				if !names[BenchKey(idx).FileName()] {
					t.Fatalf("key %d of the last round was evicted", idx)
				}
			}
			load := Stats(res.Ops[2], cfg)
			v := Judge(res)
			if load.Missing == 0 || load.Failed != 0 || !v.OK() || res.Verify == nil || res.Verify.Mismatches != 0 {
				t.Fatalf("load: %d evicted misses, %d failed; verdict %q; verify %+v", load.Missing, load.Failed, v.Status(), res.Verify)
			}
			sec := entries(doc[len(doc)-2])
			if sec["evictions"] != cs.Evictions || sec["total_bytes_used"] != cs.UsedBytes || sec["bytes_on_disk"] != disk ||
				sec["capacity_enforced"] != "yes" || sec["eviction_policy"] != "LRU" {
				t.Fatalf("capacity section %v", sec)
			}
			if got := entries(doc[3])["evicted_misses"]; got != int64(load.Missing) {
				t.Fatalf("load section evicted_misses %v, want %d", got, load.Missing)
			}
			rounds := 0
			for _, l := range ls {
				if l["event"] == "round" && l["op"] == "load" {
					rounds++
					if _, ok := l["evicted_misses"]; !ok {
						t.Fatalf("load round line without evicted_misses: %v", l)
					}
				}
			}
			if rounds != 11 {
				t.Fatalf("%d load round lines", rounds)
			}
		})
	}
}
