package l2

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/lmfast/lmfast/hugepage"
	"github.com/lmfast/lmfast/hugepage/hugepagetest"
	"github.com/lmfast/lmfast/stream"
)

// testConfig is a small fs run in dir.
func testConfig(t *testing.T, specJSON string) *Config {
	t.Helper()
	specs, err := ParseSpecs([]string{specJSON})
	if err != nil {
		t.Fatal(err)
	}
	return &Config{Spec: specs[0], NumKeys: 8, InFlight: 2, Payload: 64 << 10, Align: 1, Rounds: 2, Warmup: 1,
		Ops: Ops, IOWorkers: 2, StoreLoadTimeout: DefaultStoreLoadTimeout, LookupTimeout: DefaultLookupTimeout}
}

func fsSpec(dir string, extra string) string { return dirSpec("fs", dir, extra) }

// dirSpec is the JSON of an fs or fs_native adapter in dir.
func dirSpec(typ, dir, extra string) string {
	b, _ := json.Marshal(dir)
	return `{"type":"` + typ + `","base_path":` + string(b) + extra + `}`
}

// lines parses a JSONL buffer, failing on any invalid line.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	out, err := stream.ParseLines(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runCfg(t *testing.T, cfg *Config) (*Result, []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	out := stream.New(&buf, "l2", "test")
	res, err := Run(context.Background(), cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	return res, lines(t, buf.Bytes())
}

func TestRoundTripFS(t *testing.T) {
	// Umask 0, so that file modes are the adapters' own: fs 0666 on the
	// buffered path, 0644 with O_DIRECT; fs_native 0644 on both.
	defer syscall.Umask(syscall.Umask(0))
	tests := []struct {
		name    string
		typ     string
		extra   string
		huge    bool
		payload int
		direct  bool
		mode    os.FileMode
	}{
		{"buffered", "fs", "", false, 64 << 10, false, 0o666},
		{"odirect", "fs", `,"use_odirect":true`, false, 64 << 10, true, 0o644},
		{"odirect unaligned size falls back to buffered", "fs", `,"use_odirect":true`, false, 3 << 10, false, 0o666},
		{"relative tmp dir", "fs", `,"relative_tmp_dir":"tmp"`, false, 64 << 10, false, 0o666},
		{"hugepages odirect", "fs", `,"use_odirect":true`, true, 256 << 10, true, 0o644},
		{"fs read ahead", "fs", `,"read_ahead_size":4096`, false, 64 << 10, false, 0o666},
		{"fs_native buffered", "fs_native", `,"num_workers":2`, false, 64 << 10, false, 0o644},
		{"fs_native read ahead under O_DIRECT", "fs_native", `,"use_odirect":true,"read_ahead_size":8192`, false, 64 << 10, true, 0o644},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.huge {
				release, err := hugepagetest.Reserve(4)
				if err != nil {
					t.Skipf("no 2 MiB huge pages can be reserved here (%v); THP fallback is covered by hugepage's tests", err)
				}
				defer release()
			}
			dir := t.TempDir()
			cfg := testConfig(t, dirSpec(tc.typ, dir, tc.extra))
			cfg.Payload, cfg.HugePages, cfg.Verify = tc.payload, tc.huge, true
			res, ls := runCfg(t, cfg)
			if v := Judge(res); !v.OK() {
				t.Fatalf("verdict %+v", v)
			}
			if res.Verify == nil || res.Verify.Mismatches != 0 || res.Verify.Checked != 16 {
				t.Fatalf("verify %+v", res.Verify)
			}
			if tc.huge && res.Buffers != hugepage.HugeTLB {
				t.Fatalf("buffers %v, want hugetlb", res.Buffers)
			}
			for _, o := range res.Ops {
				if o.Op == Lookup {
					continue
				}
				if tc.direct && (o.DirectKeys != 32 || o.BufferedKeys != 0) {
					t.Fatalf("%s: direct %d buffered %d, want all 32 direct", o.Op, o.DirectKeys, o.BufferedKeys)
				}
				if !tc.direct && o.DirectKeys != 0 {
					t.Fatalf("%s: %d keys went O_DIRECT", o.Op, o.DirectKeys)
				}
			}
			// Layout: one file per key, exactly the payload, LMCache's pattern; no temp files.
			entries, _ := os.ReadDir(dir)
			files := 0
			for _, e := range entries {
				if e.IsDir() {
					if e.Name() != "tmp" {
						t.Fatalf("unexpected directory %s", e.Name())
					}
					if sub, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(sub) != 0 {
						t.Fatalf("temp files left: %v", sub)
					}
					continue
				}
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Fatalf("temp file left: %s", e.Name())
				}
				files++
			}
			if files != 48 { // 3 rounds × 16 keys
				t.Fatalf("%d files, want 48", files)
			}
			name := filepath.Join(dir, "bench-model@0x0000001d@0@0000000000000000000000000000001d.data")
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(name); st.Mode().Perm() != tc.mode {
				t.Fatalf("file mode %v, want %v", st.Mode().Perm(), tc.mode)
			}
			if len(b) != tc.payload || b[0] != 29%8 || b[len(b)-1] != 29%8 {
				t.Fatalf("idx 29: %d bytes of %d", len(b), b[0])
			}
			var summaries int
			for _, l := range ls {
				if l["event"] == "summary" {
					summaries++
				}
			}
			if summaries != 0 {
				t.Fatalf("Run wrote %d summaries; the caller writes them", summaries)
			}
		})
	}
}

// TestReadAheadSplit: LMCache's read-ahead split — fs on buffered reads
// only, fs_native under O_DIRECT too when the split stays block-aligned.
func TestReadAheadSplit(t *testing.T) {
	tests := []struct {
		native, direct bool
		ra, bsize, n   int
		want           bool
	}{
		{false, false, 4096, 4096, 64 << 10, true},
		{false, true, 4096, 4096, 64 << 10, false},
		{true, false, 4096, 4096, 64 << 10, true},
		{true, true, 8192, 4096, 64 << 10, true},
		{true, true, 6144, 4096, 64 << 10, false},     // unaligned under O_DIRECT
		{true, true, 64 << 10, 4096, 64 << 10, false}, // nothing left to split
		{false, false, 0, 4096, 64 << 10, false},
	}
	for _, tc := range tests {
		a := &fsAdapter{native: tc.native, readAhead: tc.ra, bsize: tc.bsize}
		if got := a.splitRead(tc.n, tc.direct); got != tc.want {
			t.Errorf("%+v: split %v", tc, got)
		}
	}
}

// TestHeadReadSplitsBufferedLoadsOnly: without read_ahead_size, a buffered
// load larger than the head read is split there; O_DIRECT loads, keys no
// larger than it, and specs with read_ahead_size are not (the spec's split
// wins).
func TestHeadReadSplitsBufferedLoadsOnly(t *testing.T) {
	tests := []struct {
		ra, head, n int
		direct      bool
		want        int
	}{
		{0, 64 << 10, 1 << 20, false, 64 << 10},
		{0, 64 << 10, 1 << 20, true, 0},
		{0, 64 << 10, 64 << 10, false, 0},
		{0, 0, 1 << 20, false, 0},
		{8192, 64 << 10, 1 << 20, false, 8192},
		{8192, 64 << 10, 1 << 20, true, 8192},
	}
	for _, tc := range tests {
		a := &fsAdapter{native: true, readAhead: tc.ra, headRead: tc.head, bsize: 4096}
		if got := a.readSplit(tc.n, tc.direct); got != tc.want {
			t.Errorf("%+v: split at %d", tc, got)
		}
	}
}

// TestHeadReadLoadsEveryByte: a load split by the head read returns the
// stored payload byte for byte, at sizes around the split.
func TestHeadReadLoadsEveryByte(t *testing.T) {
	for _, size := range []int{4096, 8192, 12288, 1 << 20} {
		a, err := New(Spec{Type: "fs_native", BasePath: t.TempDir()}, Options{Writable: true, HeadRead: 8192})
		if err != nil {
			t.Fatal(err)
		}
		var s Scratch
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i*7 + i>>12)
		}
		if o := a.Store(&s, 3, want); o.Status != OK {
			t.Fatalf("store %d bytes: %+v", size, o)
		}
		got := make([]byte, size)
		if o := a.Load(&s, 3, got); o.Status != OK || o.Bytes != size || !bytes.Equal(got, want) {
			t.Fatalf("load %d bytes split at 8192: %+v, equal %v", size, o, bytes.Equal(got, want))
		}
		a.Close()
	}
}

// TestLoadReadErrorIsNotShortFile: an I/O error after part of the payload
// arrived is reported as the read error it is; only an early end of file
// is "shorter than the payload".
func TestLoadReadErrorIsNotShortFile(t *testing.T) {
	o := loadOutcome(4096, 8192, syscall.EIO, true)
	if o.Status != Failed || o.Bytes != 4096 || !o.Direct || o.Err.Error() != "load: read: input/output error" {
		t.Fatalf("EIO after 4096 bytes: %+v", o)
	}
	if o := loadOutcome(4096, 8192, nil, false); o.Err != errShortRead {
		t.Fatalf("EOF after 4096 bytes: %+v", o)
	}
	if o := loadOutcome(8192, 8192, nil, false); o.Status != OK || o.Err != nil {
		t.Fatalf("whole payload: %+v", o)
	}
}

// TestRelativeTmpDirDotIsUnset: a relative_tmp_dir that cleans to "." is
// unset, like "": temp files are <name>.tmp beside the final file, renamed
// into place, never written in place under the final name.
func TestRelativeTmpDirDotIsUnset(t *testing.T) {
	for _, rel := range []string{"", ".", "./", "./."} {
		specs, err := ParseSpecs([]string{fsSpec(t.TempDir(), `,"relative_tmp_dir":"`+rel+`"`)})
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(specs[0], Options{Writable: true})
		if err != nil {
			t.Fatal(err)
		}
		fs := a.(*fsAdapter)
		var s Scratch
		if !fs.tmpSame || fs.tmpDir != fs.dir || !strings.HasSuffix(string(s.tmpName(5, fs.tmpSame)), ".tmp\x00") {
			t.Errorf("relative_tmp_dir %q: temp files in the base directory as .tmp: %v", rel, fs.tmpSame)
		}
		a.Close()
	}
}

// TestRunTwiceWarnsOnce: Run leaves the caller's Config as it was, so a
// second Run with the same Config gives each warning once, to the caller's
// Warn and as one JSONL warning line of its own stream (not the first
// run's).
func TestRunTwiceWarnsOnce(t *testing.T) {
	cfg := testConfig(t, `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`)
	cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.NumKeys, cfg.InFlight, cfg.Payload = []Op{Store}, 1, 0, 2, 1, 4096
	cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
		o.Warn("adapter says hello") // as the fs adapter warns that O_DIRECT was refused
		return New(s, o)
	}
	var got []string
	cfg.Warn = func(s string) { got = append(got, s) }
	streams := make([]bytes.Buffer, 3)
	for i := range streams {
		got = nil
		if _, err := Run(context.Background(), cfg, stream.New(&streams[i], "l2", "t")); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != "adapter says hello" {
			t.Fatalf("run %d: the caller's Warn got %q, want the warning once", i+1, got)
		}
	}
	for i := range streams {
		n := 0
		for _, l := range lines(t, streams[i].Bytes()) {
			if l["event"] == "warning" && l["warning"] == "adapter says hello" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("stream of run %d holds %d warning lines, want 1", i+1, n)
		}
	}
	// The caller's Warn is still the caller's: it writes to no run's stream.
	n := streams[0].Len()
	got = nil
	cfg.Warn("after")
	if len(got) != 1 || streams[0].Len() != n {
		t.Fatalf("cfg.Warn after the runs: %q, first stream grew %d bytes", got, streams[0].Len()-n)
	}
}

// TestBufferedStoreWorkersCapOnlyBufferedStores: the cap applies when the
// adapter's stores go through the page cache (no O_DIRECT, or a size
// O_DIRECT cannot take) and shows in the summary; O_DIRECT stores keep
// every I/O thread.
func TestBufferedStoreWorkersCapOnlyBufferedStores(t *testing.T) {
	tests := []struct {
		name    string
		extra   string
		payload int
		ops     []Op // nil: every operation
		want    int  // storing at once; with direct, only where the temp directory takes O_DIRECT
		direct  bool // the want counts on O_DIRECT
	}{
		{"buffered", "", 64 << 10, nil, 2, false},
		{"odirect", `,"use_odirect":true`, 64 << 10, nil, 4, true},
		{"odirect unaligned size is buffered", `,"use_odirect":true`, 3000, nil, 2, false},
		{"no store in the run", "", 64 << 10, []Op{Lookup}, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dirSpec("fs_native", dir, tc.extra))
			cfg.Payload, cfg.IOWorkers, cfg.BufferedStoreWorkers = tc.payload, 4, 2
			if tc.ops != nil {
				cfg.Ops = tc.ops
			}
			if tc.direct && !directWorks(t, dir) {
				tc.want = 2 // a temp directory without O_DIRECT (tmpfs before Linux 6.6): the stores are buffered
			}
			res, _ := runCfg(t, cfg)
			if v := Judge(res); !v.OK() {
				t.Fatalf("verdict %+v", v)
			}
			if res.Workers != 4 || res.StoreWorkers != tc.want {
				t.Fatalf("%d workers, %d storing at once; want 4 and %d", res.Workers, res.StoreWorkers, tc.want)
			}
			doc := RenderJSON(Document(res, "OK"))
			capped := strings.Contains(doc, "(buffered stores: 2 at once)")
			if capped != (tc.want == 2) {
				t.Fatalf("summary says the cap: %v, want %v:\n%s", capped, tc.want == 2, doc)
			}
		})
	}
}
