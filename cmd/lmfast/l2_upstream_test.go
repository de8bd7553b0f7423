package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/lmfast/lmfast/internal/flame"
)

// TestL2TimedOutRoundsFollowLMCache: rounds forced to time out by a slow
// mock (16 KiB keys at ~200 KiB/s take 76 ms each; the timeout is 10 ms)
// are reported as LMCache's result.py does since PR #4599, in both
// LMCache formats: every round that started counts in "rounds" and
// "rounds_timed_out", the key accounting is unchanged, and with no
// completed round the durations and throughput are zeros, not inf. The
// JSONL keeps lmfast's null for what was not measured, and the run still
// exits 1.
func TestL2TimedOutRoundsFollowLMCache(t *testing.T) {
	for _, format := range []string{"json", "terminal"} {
		t.Run(format, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary")
			code, stdout, stderr := runL2(t, "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0.0002}`,
				"--only", "store", "--num-keys", "2", "--in-flight", "1", "--data-size-kb", "16", "--io-workers", "1",
				"--rounds", "3", "--warmup-rounds", "0", "--round-timeout", "10ms", "--format", format, "--output", summary)
			if code != ExitFailure || !strings.Contains(stderr, "lmfast: l2: 6 failed keys, 3 timed-out rounds") {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
			}
			out, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			if format == "terminal" {
				for _, line := range []string{"Rounds:", "Rounds timed out:", "Total keys:", "Duration avg (ms):", "Throughput avg (MB/s):"} {
					want := map[string]string{"Rounds:": "3", "Rounds timed out:": "3", "Total keys:": "6"}[line]
					if want == "" {
						want = "0.00"
					}
					if !hasLine(string(out), line, want) {
						t.Errorf("terminal summary lacks %q ... %q:\n%s", line, want, out)
					}
				}
				if strings.Contains(string(out), "inf") {
					t.Errorf("terminal summary prints inf:\n%s", out)
				}
				return
			}
			if !strings.Contains(string(out), `"duration_avg_ms": 0.0,`) || !strings.Contains(string(out), `"rounds_timed_out": 3,`) {
				t.Errorf("JSON summary not in LMCache's form:\n%s", out)
			}
			var doc struct {
				Metrics map[string]map[string]any `json:"metrics"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("--output: %v\n%s", err, out)
			}
			op := doc.Metrics["op_0"]
			for k, w := range map[string]float64{"rounds": 3, "rounds_timed_out": 3, "total_keys": 6, "total_success": 0,
				"duration_avg_ms": 0, "duration_p99_ms": 0, "throughput_avg_mbps": 0, "throughput_max_mbps": 0, "ops_per_sec_avg": 0} {
				if op[k] != w {
					t.Errorf("%s = %v, want %v", k, op[k], w)
				}
			}
			sums := events(jsonl(t, stdout), "summary")
			if len(sums) != 2 || sums[0]["duration_avg_ms"] != nil || sums[0]["throughput_avg_mbps"] != nil ||
				sums[0]["rounds_timed_out"] != 3.0 || sums[1]["timed_out_rounds"] != 3.0 || sums[1]["ok"] != false {
				t.Fatalf("JSONL summaries %v", sums)
			}
		})
	}
}

// hasLine reports whether the terminal summary has a line "label ... value".
func hasLine(text, label, value string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, label) && strings.HasSuffix(l, " "+value) {
			return true
		}
	}
	return false
}

// tmpfsOrTempDir is a fresh 64 MiB tmpfs when the test may mount one
// (root), else a temp directory.
func tmpfsOrTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64m"); err == nil {
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	}
	return dir
}

// dataBytes is what `du -cb` (apparent sizes) and stat say the *.data
// files in dir add up to; the test fails if they disagree.
func dataBytes(t *testing.T, dir string) (total int64, files int) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.data"))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if len(paths) == 0 {
		return 0, 0
	}
	out, err := exec.Command("du", append([]string{"-cb"}, paths...)...).Output()
	if err != nil {
		t.Fatalf("du: %v", err)
	}
	ls := strings.Split(strings.TrimSpace(string(out)), "\n")
	du, err := strconv.ParseInt(strings.Fields(ls[len(ls)-1])[0], 10, 64)
	if err != nil || du != total {
		t.Fatalf("du -cb says %s, stat %d bytes", ls[len(ls)-1], total)
	}
	return total, len(paths)
}

// TestL2CapacityEviction: 11 MiB stored into a 4 MiB max_capacity_gb with
// an LRU eviction block (a tmpfs where possible): the files left on disk,
// by du and stat, stay within the capacity and match the capacity line's
// accounting, and evictions are counted. A restart with recover_on_start
// (the default) counts the files it finds and looks them up; with
// recover_on_start false it counts none. Without the eviction block the
// same store leaves every file (no eviction) and warns once, on stderr and
// as a JSONL warning line.
func TestL2CapacityEviction(t *testing.T) {
	const capacity = 4 << 20
	gb := strconv.FormatFloat(float64(capacity)/(1<<30), 'g', -1, 64)
	flags := []string{"--num-keys", "8", "--in-flight", "2", "--data-size-kb", "64", "--rounds", "10", "--warmup-rounds", "1"}
	capLine := func(t *testing.T, stdout string) map[string]any {
		t.Helper()
		c := events(jsonl(t, stdout), "capacity")
		if len(c) != 1 {
			t.Fatalf("%d capacity lines", len(c))
		}
		return c[0]
	}

	dir := tmpfsOrTempDir(t)
	spec := fsJSON(dir, `,"max_capacity_gb":`+gb+`,"eviction":{"eviction_policy":"LRU"}`)
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runL2(t, append(flags, "--l2-adapter", spec, "--only", "store", "--format", "json", "--output", summary)...)
	if code != ExitOK || strings.Contains(withoutFSNote(stderr), "warning") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c := capLine(t, stdout)
	disk, files := dataBytes(t, dir)
	if c["max_capacity_bytes"] != float64(capacity) || c["evictions"].(float64) == 0 || disk > capacity ||
		c["total_bytes_used"] != float64(disk) || c["bytes_on_disk"] != float64(disk) || c["capacity_enforced"] != "yes" {
		t.Fatalf("capacity line %v; %d bytes on disk", c, disk)
	}
	if b, _ := os.ReadFile(summary); !strings.Contains(string(b), `"l2_capacity": {`) || !strings.Contains(string(b), `"evictions": `) {
		t.Fatalf("--output lacks the capacity section:\n%s", b)
	}

	code, stdout, stderr = runL2(t, append(flags, "--l2-adapter", spec, "--only", "lookup", "--lookup-max-hit-rate", "1")...)
	if code != ExitOK {
		t.Fatalf("restart: exit %d: %s", code, stderr)
	}
	c = capLine(t, stdout)
	found := 0.0
	for _, r := range events(jsonl(t, stdout), "round") {
		found += r["success"].(float64)
	}
	if c["recovered_keys"] != float64(files) || c["recovered_bytes"] != float64(disk) || c["total_bytes_used"] != float64(disk) ||
		found != float64(files) || !strings.Contains(stderr, "Recovered at start (keys):") {
		t.Fatalf("restart with recover_on_start: capacity %v, %v keys found; %d files (%d bytes) on disk", c, found, files, disk)
	}
	norec := fsJSON(dir, `,"max_capacity_gb":`+gb+`,"recover_on_start":false,"eviction":{"eviction_policy":"LRU"}`)
	if code, stdout, stderr = runL2(t, append(flags, "--l2-adapter", norec, "--only", "lookup")...); code != ExitOK {
		t.Fatalf("restart without recovery: exit %d: %s", code, stderr)
	}
	if c = capLine(t, stdout); c["total_bytes_used"] != 0.0 || c["recovered_keys"] != nil {
		t.Fatalf("recover_on_start false: %v", c)
	}

	dir = tmpfsOrTempDir(t)
	spec = fsJSON(dir, `,"max_capacity_gb":`+gb)
	code, stdout, stderr = runL2(t, append(flags, "--l2-adapter", spec, "--only", "store")...)
	want := "fs: max_capacity_gb=" + gb + " is declared for " + dir + " but no 'eviction' block is configured, so it is used for usage accounting only and will NOT bound disk usage."
	if code != ExitOK || strings.Count(stderr, "lmfast: warning: "+want) != 1 {
		t.Fatalf("without an eviction block: exit %d, stderr:\n%s", code, stderr)
	}
	if w := warnings(jsonl(t, stdout)); len(w) != 1 || !strings.HasPrefix(w[0]["warning"].(string), want) {
		t.Fatalf("warning lines %v", w)
	}
	c = capLine(t, stdout)
	disk, _ = dataBytes(t, dir)
	if disk != 11<<20 || c["evictions"] != 0.0 || c["total_bytes_used"] != float64(disk) || c["capacity_enforced"] != "no (usage accounting only)" {
		t.Fatalf("without an eviction block: capacity %v, %d bytes on disk", c, disk)
	}
}

// TestL2FlamegraphModes: with --flamegraph on, LMCache's modes that need
// perf, bcc or py-spy exit 2 naming the mode, an unknown mode or an
// --flamegraph value other than on/off too; nothing is written. An output
// path that cannot be made is exit 2 with nothing on stdout.
func TestL2FlamegraphModes(t *testing.T) {
	spec := `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--flamegraph", "on", "--flamegraph-mode", "gil"}, "--flamegraph-mode: mode 'gil' is not available in lmfast"},
		{[]string{"--flamegraph", "on", "--flamegraph-mode", "wakeup"}, "mode 'wakeup' is not available"},
		{[]string{"--flamegraph", "on", "--flamegraph-mode", "on-cpu,off-cpu"}, "mode 'off-cpu' is not available"},
		{[]string{"--flamegraph", "on", "--flamegraph-mode", "cpu"}, "invalid flame-graph mode: 'cpu' (expected one of gil, off-cpu, offwake, on-cpu, wakeup, wall)"},
		{[]string{"--flamegraph", "yes"}, "--flamegraph: invalid choice: 'yes' (choose from 'on', 'off')"},
	} {
		svg := filepath.Join(t.TempDir(), "fg", "x.svg")
		code, stdout, stderr := runL2(t, append(tc.args, "--l2-adapter", spec, "--flamegraph-output", svg)...)
		if code != ExitBadInput || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
		if _, err := os.Stat(filepath.Dir(svg)); err == nil {
			t.Errorf("%v: output directory created", tc.args)
		}
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runL2(t, "--l2-adapter", spec, "--flamegraph", "on", "--flamegraph-output", filepath.Join(notDir, "x.svg"))
	if code != ExitBadInput || !strings.HasPrefix(stderr, "lmfast: cannot start flame-graph profiling: ") || stdout != "" {
		t.Errorf("unusable --flamegraph-output: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if svg, prof := flameOutputs("", "FSL2Adapter"); svg != "/tmp/lmcache_bench_flames/FSL2Adapter.oncpu.svg" ||
		prof != "/tmp/lmcache_bench_flames/FSL2Adapter.oncpu.pb.gz" {
		t.Errorf("default outputs %s, %s", svg, prof)
	}
}

// TestL2FlamegraphFiles: --flamegraph on writes a Go CPU profile that
// github.com/google/pprof/profile parses, with samples of the measured
// operations, and an SVG flame graph of it that is well-formed XML with a
// frame per function; a stale graph at the path is replaced, and
// --flamegraph-scripts-dir is accepted with a note.
func TestL2FlamegraphFiles(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "flames", "run.svg")
	prof := strings.TrimSuffix(svg, ".svg") + ".pb.gz"
	if err := os.MkdirAll(filepath.Dir(svg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svg, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The mock copies every key in and out: 2 × 160 MiB of memory copies.
	code, stdout, stderr := runL2(t, "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`,
		"--num-keys", "16", "--in-flight", "2", "--data-size-kb", "1024", "--rounds", "4",
		"--flamegraph", "on", "--flamegraph-output", svg, "--flamegraph-scripts-dir", "/nonexistent/FlameGraph")
	if code != ExitOK || !strings.Contains(stderr, "lmfast: warning: --flamegraph-scripts-dir is not used") ||
		!strings.Contains(stderr, "[Profile] wrote "+svg) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(prof)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Parse(f)
	f.Close()
	if err != nil {
		t.Fatalf("%s is not a pprof profile: %v", prof, err)
	}
	if len(p.Sample) == 0 || p.SampleType[len(p.SampleType)-1].Type != "cpu" {
		t.Fatalf("profile: %d samples, types %v", len(p.Sample), p.SampleType)
	}
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
	if !strings.HasPrefix(string(b), "<?xml") || !strings.Contains(string(b), "<title>all (") || strings.Count(string(b), "<rect") < 3 {
		t.Fatalf("SVG without frames:\n%.2000s", b)
	}
	fg := events(jsonl(t, stdout), "flamegraph")
	if len(fg) != 1 || fg[0]["svg"] != svg || fg[0]["profile"] != prof || fg[0]["samples"] != float64(flame.Samples(p)) {
		t.Fatalf("flamegraph lines %v", fg)
	}
}
