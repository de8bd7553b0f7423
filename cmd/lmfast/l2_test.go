package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/l2"
	"github.com/lmfast/lmfast/stream"
)

func fsJSON(dir string, extra string) string {
	b, _ := json.Marshal(dir)
	return `{"type":"fs","base_path":` + string(b) + extra + `}`
}

// runL2 runs `lmfast l2 args...` in-process.
func runL2(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"l2"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// jsonl parses stdout as JSON lines, failing on anything else or on a
// line without the leading fields.
func jsonl(t *testing.T, s string) []map[string]any {
	t.Helper()
	out, err := stream.ParseLines([]byte(s))
	if err != nil {
		t.Fatalf("stdout: %v", err)
	}
	for _, m := range out {
		for _, k := range []string{"time", "event", "run", "proc", "cmd"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line without %q: %v", k, m)
			}
		}
	}
	return out
}

// warnings are the warning lines but the one some machines' temp
// directories get for their filesystem (ext4 without a journal).
func warnings(ls []map[string]any) []map[string]any {
	var out []map[string]any
	for _, w := range events(ls, "warning") {
		if s, _ := w["warning"].(string); !strings.Contains(s, fsNote) {
			out = append(out, w)
		}
	}
	return out
}

// fsNote is the part of that warning that names it.
const fsNote = "is on ext4 without a journal"

// withoutFSNote is stderr without the line of that warning.
func withoutFSNote(stderr string) string {
	var keep []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !strings.Contains(l, fsNote) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

func events(ls []map[string]any, name string) []map[string]any {
	var out []map[string]any
	for _, l := range ls {
		if l["event"] == name {
			out = append(out, l)
		}
	}
	return out
}

func TestL2BadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-created")
	spec := fsJSON(dir, "")
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"align zero", []string{"--l1-align-bytes", "0"}, "", "--l1-align-bytes must be positive"},
		{"align mismatch", []string{"--data-size-kb", "1", "--l1-align-bytes", "4096"}, "", "--data-size-kb must produce a payload size that is a multiple of --l1-align-bytes"},
		{"no spec", nil, "", "No L2 adapter configuration provided. Use --l2-adapter JSON or set L2_ADAPTER_JSON environment variable."},
		{"bad json", []string{"--l2-adapter", "{nope"}, "", "Error parsing L2 adapter config: Invalid JSON for --l2-adapter #1"},
		{"bad env json", nil, `{"type":"fs"}`, "Error parsing L2 adapter config: --l2-adapter #1 ('fs'): base_path must be a non-empty string"},
		{"unknown type", []string{"--l2-adapter", `{"type":"s3","bucket":"b"}`}, "", "unknown adapter type 's3'. Known: fs, fs_native, mock"},
		{"second spec bad", []string{"--l2-adapter", spec, "--l2-adapter", `{"type":"mock"}`}, "", "--l2-adapter #2 ('mock'): max_size_gb must be a positive number"},
		{"format", []string{"--l2-adapter", spec, "--format", "yaml"}, "", `--format: unknown format "yaml"`},
		{"only", []string{"--l2-adapter", spec, "--only", "delete"}, "", "--only: invalid choice"},
		{"mode", []string{"--l2-adapter", spec, "--mode", "burst"}, "", "--mode"},
		{"duration", []string{"--l2-adapter", spec, "--mode", "window", "--duration", "soon"}, "", "--duration"},
		{"negative duration", []string{"--l2-adapter", spec, "--mode", "window", "--duration=-1"}, "", `--duration: "-1" is not a duration of 0 or more`},
		{"load buffers", []string{"--l2-adapter", spec, "--load-buffers", "shared"}, "", `--load-buffers: "shared" is not per-key or per-thread`},
		{"publish", []string{"--l2-adapter", spec, "--publish", "atomic"}, "", `--publish: "atomic" is not rename or in-place`},
		{"publish in place without files", []string{"--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`, "--publish", "in-place"}, "", "--publish in-place needs an fs or fs_native adapter, not mock"},
		{"num keys", []string{"--l2-adapter", spec, "--num-keys", "0"}, "", "--num-keys must be at least 1"},
		{"in flight", []string{"--l2-adapter", spec, "--in-flight", "0"}, "", "--in-flight must be at least 1"},
		{"rounds", []string{"--l2-adapter", spec, "--rounds", "0"}, "", "--rounds must be at least 1"},
		{"warmup", []string{"--l2-adapter", spec, "--warmup-rounds=-1"}, "", "--warmup-rounds must not be negative"},
		{"data size", []string{"--l2-adapter", spec, "--data-size-kb", "0"}, "", "--data-size-kb must be at least 1"},
		{"io workers", []string{"--l2-adapter", spec, "--io-workers=-2"}, "", "--io-workers must not be negative"},
		{"pin cpus", []string{"--l2-adapter", spec, "--pin-cpus", "0,4095"}, "", "--pin-cpus: CPU 4095 is not available"},
		{"timeout", []string{"--l2-adapter", spec, "--round-timeout", "0"}, "", "--round-timeout must be positive"},
		{"output not writable", []string{"--l2-adapter", spec, "--output", filepath.Join(dir, "summary.txt")}, "", "--output: open " + filepath.Join(dir, "summary.txt") + ": no such file or directory"},
		{"unknown flag", []string{"--l2-adapter", spec, "--num-keyz", "3"}, "", "unknown flag"},
		{"not a number", []string{"--l2-adapter", spec, "--num-keys", "many"}, "", "--num-keys"},
		{"keys per round wrap to zero", []string{"--l2-adapter", spec, "--num-keys", "4294967296", "--in-flight", "4294967296"}, "", "more than 16777216 keys per round"},
		{"keys per round wrap negative", []string{"--l2-adapter", spec, "--num-keys", "4611686018427387904", "--in-flight", "4"}, "", "more than 16777216 keys per round"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("L2_ADAPTER_JSON", tc.env)
			code, stdout, stderr := runL2(t, tc.args...)
			if code != ExitBadInput {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not contain %q", stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "goroutine") {
				t.Fatalf("error is not one line: %q", stderr)
			}
			if stdout != "" {
				t.Fatalf("bad input wrote to stdout: %q", stdout)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("base_path created before the input was validated")
			}
		})
	}
}

// TestL2StdoutIsJSONL: stdout carries JSON lines only, with the config,
// round, summary and verify events; the progress and summary go to stderr.
func TestL2StdoutIsJSONL(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runL2(t, "--l2-adapter", fsJSON(dir, ""), "--num-keys", "4", "--in-flight", "2",
		"--data-size-kb", "16", "--rounds", "2", "--no-skip-verify", "--lookup-max-hit-rate", "0.5", "--raw",
		"--format", "json", "--output", summary)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ls := jsonl(t, stdout)
	cfg := events(ls, "config")
	if len(cfg) != 1 || cfg[0]["schema"] != "lmfast.v1" || cfg[0]["cmd"] != "l2" {
		t.Fatalf("config lines %v", cfg)
	}
	if n := len(events(ls, "round")); n != 9 {
		t.Fatalf("%d round lines, want 9", n)
	}
	if n := len(events(ls, "sample")); n != 3*2*8 {
		t.Fatalf("%d sample lines, want 48", n)
	}
	sums := events(ls, "summary")
	if len(sums) != 4 || sums[3]["op"] != "all" || sums[3]["ok"] != true {
		t.Fatalf("summaries %v", sums)
	}
	if lat, ok := sums[0]["latency_us"].(map[string]any); !ok || lat["count"].(float64) != 16 || sums[0]["hdr"] == "" {
		t.Fatalf("store summary without per-key latency: %v", sums[0])
	}
	if v := events(ls, "verify"); len(v) != 1 || v[0]["ok"] != true {
		t.Fatalf("verify %v", v)
	}
	for _, want := range []string{"[Store] Round 3:", "[Verify] All 8 keys data verified OK.", `"title": "L2 Adapter Benchmark Result"`} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || doc["title"] != "L2 Adapter Benchmark Result" {
		t.Fatalf("--output is not the JSON summary: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), `"data_per_round_mb": 0.12,`) || !strings.Contains(string(b), `"lookup_max_hit_rate": 0.5,`) {
		t.Fatalf("summary numbers not in Python's form:\n%s", b)
	}
}

// TestL2JSONSummaryEscapesAsPython: with --format json the summary
// (stderr and --output) writes the adapter JSON as Python's json.dumps
// does — DEL as \u007f, non-ASCII as \uXXXX — while stdout stays JSON lines
// carrying the same string (Go's JSON encoders leave DEL raw).
func TestL2JSONSummaryEscapesAsPython(t *testing.T) {
	dir := t.TempDir()
	raw := `{"type":"fs","base_path":"` + dir + "/caf\u00e9\x7f" + `"}`
	summary := filepath.Join(t.TempDir(), "summary.json")
	code, stdout, stderr := runL2(t, "--l2-adapter", raw, "--num-keys", "2", "--data-size-kb", "4",
		"--format", "json", "--output", summary)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := `      "l2_adapter_json": "{\"type\":\"fs\",\"base_path\":\"` + dir + `/caf\u00e9\u007f\"}",` + "\n"
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"--output": string(b), "stderr": stderr} {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", name, want, text)
		}
	}
	for i, c := range b {
		if c < 0x20 && c != '\n' || c > 0x7e {
			t.Fatalf("--output byte %d is %#x: not Python's ASCII", i, c)
		}
	}
	if cfg := events(jsonl(t, stdout), "config"); len(cfg) != 1 || cfg[0]["l2_adapter_json"] != raw {
		t.Fatalf("config line %v", cfg)
	}
}

// TestL2QuietAndOut: -q silences stderr, --out moves the JSONL to a file,
// --output still gets the summary.
func TestL2QuietAndOut(t *testing.T) {
	tmp := t.TempDir()
	out, summary := filepath.Join(tmp, "run.jsonl"), filepath.Join(tmp, "summary.txt")
	code, stdout, stderr := runL2(t, "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`,
		"--num-keys", "4", "--data-size-kb", "4", "-q", "--out", out, "--output", summary)
	if code != ExitOK || stdout != "" || stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	b, _ := os.ReadFile(out)
	if len(events(jsonl(t, string(b)), "summary")) != 4 {
		t.Fatalf("--out file: %s", b)
	}
	s, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(s), "================= L2 Adapter Benchmark Result ==================\n") {
		t.Fatalf("--output: %s", s)
	}
}

// TestL2OutputOpenedFirst: --output is opened before the run. A path that
// cannot be written is exit 2 before anything else is created (the bad
// input table); a file that exists keeps its content until the summary
// replaces it whole, and keeps it when the run ends without a summary; a
// file the run created is removed again when it ends without one.
func TestL2OutputOpenedFirst(t *testing.T) {
	mock := `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`
	t.Run("summary replaces a longer file", func(t *testing.T) {
		summary := filepath.Join(t.TempDir(), "summary.txt")
		old := strings.Repeat("an older, longer file\n", 1000)
		os.WriteFile(summary, []byte(old), 0o644)
		code, _, stderr := runL2(t, "--l2-adapter", mock, "--num-keys", "2", "--data-size-kb", "4", "--output", summary)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, _ := os.ReadFile(summary)
		if !strings.HasPrefix(string(b), "================= L2 Adapter Benchmark Result") || strings.Contains(string(b), "older") ||
			!strings.Contains(stderr, string(b)) {
			t.Fatalf("--output holds %d bytes, not the summary shown on stderr:\n%s", len(b), b)
		}
	})
	t.Run("no summary", func(t *testing.T) {
		tmp := t.TempDir()
		f := filepath.Join(tmp, "file")
		os.WriteFile(f, nil, 0o644)
		bad := fsJSON(filepath.Join(f, "sub"), "") // adapter creation fails: exit 1, no summary
		existing, fresh := filepath.Join(tmp, "existing.txt"), filepath.Join(tmp, "fresh.txt")
		os.WriteFile(existing, []byte("kept\n"), 0o644)
		for _, out := range []string{existing, fresh} {
			if code, _, stderr := runL2(t, "--l2-adapter", bad, "--num-keys", "2", "--output", out); code != ExitFailure {
				t.Fatalf("exit %d: %s", code, stderr)
			}
		}
		if b, err := os.ReadFile(existing); err != nil || string(b) != "kept\n" {
			t.Fatalf("existing --output after a run without summary: %q, %v", b, err)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Fatalf("--output created by a run without summary was left: %v", err)
		}
	})
}

// TestL2PublishInPlace: --publish in-place stores every key under its
// final name without a temp file: a directory where key 0's temp file
// would go fails the rename protocol's store (exit 1) and not this one;
// the config line says which ran, and the keys load back (verified).
func TestL2PublishInPlace(t *testing.T) {
	for _, publish := range []string{"rename", "in-place"} {
		dir := t.TempDir()
		tmp := strings.TrimSuffix(string(l2.AppendBenchName(nil, 0)), ".data") + ".tmp"
		if err := os.Mkdir(filepath.Join(dir, tmp), 0o755); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runL2(t, "--l2-adapter", fsJSON(dir, ""), "--num-keys", "4", "--in-flight", "2",
			"--data-size-kb", "8", "--publish", publish, "--no-skip-verify", "-q")
		if publish == "rename" {
			if code != ExitFailure {
				t.Fatalf("rename with a directory in key 0's temp path: exit %d, want 1: %s", code, stderr)
			}
			continue
		}
		if code != ExitOK {
			t.Fatalf("in-place: exit %d: %s", code, stderr)
		}
		if cfg := events(jsonl(t, stdout), "config"); len(cfg) != 1 || cfg[0]["publish"] != "in-place" {
			t.Fatalf("config line %v", cfg)
		}
		if data, _ := filepath.Glob(filepath.Join(dir, "*.data")); len(data) != 8*2 {
			t.Fatalf("%d .data files, want 16: 2 rounds of 8 keys", len(data))
		}
	}
}

// TestL2SkippedStoresWarn: a store over existing files warns, counts them,
// and still exits 0.
func TestL2SkippedStoresWarn(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--l2-adapter", fsJSON(dir, ""), "--num-keys", "4", "--data-size-kb", "8", "--only", "store"}
	if code, _, stderr := runL2(t, args...); code != ExitOK {
		t.Fatalf("first store: exit %d %s", code, stderr)
	}
	code, stdout, stderr := runL2(t, args...)
	if code != ExitOK || !strings.Contains(stderr, "lmfast: warning: store: 4 keys were already on disk") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	ls := jsonl(t, stdout)
	all := events(ls, "summary")[1]
	if all["skipped_existing"].(float64) != 4 {
		t.Fatalf("summary %v", all)
	}
	if w := warnings(ls); len(w) != 1 || !strings.HasPrefix(w[0]["warning"].(string), "store: 4 keys were already on disk") {
		t.Fatalf("warning lines %v", w)
	}
}

// TestL2NothingToVerifyWarns: --no-skip-verify without a load warns once,
// on stderr and as a JSONL warning line.
func TestL2NothingToVerifyWarns(t *testing.T) {
	code, stdout, stderr := runL2(t, "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`,
		"--num-keys", "2", "--data-size-kb", "4", "--only", "store", "--no-skip-verify")
	const msg = "--no-skip-verify: nothing to verify without a load operation"
	if code != ExitOK || strings.Count(stderr, "lmfast: warning: "+msg+"\n") != 1 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if w := events(jsonl(t, stdout), "warning"); len(w) != 1 || w[0]["warning"] != msg {
		t.Fatalf("warning lines %v", w)
	}
}

// TestL2Faults: each fault is one clear line, exit 1, no temp file left.
func TestL2Faults(t *testing.T) {
	t.Run("base path under a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o644)
		code, _, stderr := runL2(t, "--l2-adapter", fsJSON(filepath.Join(f, "sub"), ""), "--num-keys", "2")
		if code != ExitFailure || !strings.Contains(stderr, "lmfast: [Init] Failed to create adapter: mkdir") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("bad relative_tmp_dir", func(t *testing.T) {
		code, _, stderr := runL2(t, "--l2-adapter", fsJSON(t.TempDir(), `,"relative_tmp_dir":"../x"`), "--num-keys", "2")
		if code != ExitFailure || !strings.Contains(stderr, "Invalid relative_tmp_dir: ../x") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("truncated and deleted before load", func(t *testing.T) {
		dir := t.TempDir()
		args := []string{"--l2-adapter", fsJSON(dir, `,"use_odirect":true`), "--num-keys", "4", "--data-size-kb", "64"}
		if code, _, stderr := runL2(t, append(args, "--only", "store")...); code != ExitOK {
			t.Fatalf("store: %d %s", code, stderr)
		}
		os.Truncate(filepath.Join(dir, "bench-model@0x00000005@0@00000000000000000000000000000005.data"), 1000)
		os.Remove(filepath.Join(dir, "bench-model@0x00000006@0@00000000000000000000000000000006.data"))
		code, stdout, stderr := runL2(t, append(args, "--only", "load")...)
		if code != ExitFailure || !strings.Contains(stderr, "lmfast: l2: 2 failed keys") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		errs := events(jsonl(t, stdout), "error")
		got := map[string]string{}
		for _, e := range errs {
			got[e["error"].(string)] = e["first_key"].(string)
		}
		if !strings.HasSuffix(got["load: file shorter than the payload (truncated?)"], "05.data") ||
			!strings.HasSuffix(got["load: open: no such file or directory"], "06.data") {
			t.Fatalf("error lines %v", errs)
		}
	})
	t.Run("warmup keys missing", func(t *testing.T) {
		dir := t.TempDir()
		args := []string{"--l2-adapter", fsJSON(dir, ""), "--num-keys", "4", "--data-size-kb", "4"}
		if code, _, stderr := runL2(t, append(args, "--only", "store")...); code != ExitOK {
			t.Fatalf("store: %d %s", code, stderr)
		}
		for idx := 0; idx < 4; idx++ { // the warmup round's keys
			os.Remove(filepath.Join(dir, fmt.Sprintf("bench-model@0x%08x@0@%032x.data", idx, idx)))
		}
		code, stdout, stderr := runL2(t, append(args, "--only", "load")...)
		if code != ExitFailure || !strings.Contains(stderr, "lmfast: l2: 4 failed warmup keys") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		ls := jsonl(t, stdout)
		all := events(ls, "summary")[1]
		if all["warmup_failed_keys"].(float64) != 4 || all["failed_keys"].(float64) != 0 || all["ok"] != false {
			t.Fatalf("summary %v", all)
		}
		errs := events(ls, "error")
		if len(errs) != 1 || errs[0]["op"] != "load" || errs[0]["error"] != "load: open: no such file or directory" ||
			errs[0]["count"] != 4.0 || errs[0]["warmup"] != true || !strings.HasSuffix(errs[0]["first_key"].(string), "@0x00000000@0@00000000000000000000000000000000.data") {
			t.Fatalf("error lines %v, want the 4 warmup keys' one", errs)
		}
	})
	t.Run("disk full", func(t *testing.T) {
		mnt := mountTmpfs(t, "size=1m")
		code, stdout, stderr := runL2(t, "--l2-adapter", fsJSON(mnt, ""), "--num-keys", "8", "--data-size-kb", "256", "--only", "store")
		if code != ExitFailure || !strings.Contains(stderr, "failed keys") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		found := false
		for _, e := range events(jsonl(t, stdout), "error") {
			found = found || strings.Contains(e["error"].(string), "no space left on device")
		}
		if !found {
			t.Fatalf("no ENOSPC error line in %s", stdout)
		}
		noTempFiles(t, mnt)
	})
	t.Run("read-only base path", func(t *testing.T) {
		mnt := mountTmpfs(t, "size=1m")
		if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT|syscall.MS_RDONLY, "size=1m"); err != nil {
			t.Skipf("cannot remount read-only: %v", err)
		}
		code, _, stderr := runL2(t, "--l2-adapter", fsJSON(mnt, ""), "--num-keys", "2")
		if code != ExitFailure || !strings.Contains(stderr, "is not writable: read-only file system") || strings.Count(stderr, "lmfast:") != 1 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}

// mountTmpfs mounts a small tmpfs for the test (root only) and unmounts it
// afterwards; it skips the test where mounting is impossible.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".tmp") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
}

// TestL2InterruptDrainsAndExits130: SIGINT mid-store stops submitting,
// drains the in-flight I/O, writes the summary, leaves no temp file and
// complete JSON lines, exit 130 — in window mode (files) and in wave mode
// (many rounds on the mock's paced link). The signal comes once the store
// has reported its second round (the first measured one in both modes);
// either run would go on for a minute or more.
func TestL2InterruptDrainsAndExits130(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(dir string) []string
	}{
		{"window", func(dir string) []string {
			return []string{"--l2-adapter", fsJSON(dir, ""), "--mode", "window", "--duration", "60",
				"--num-keys", "4", "--in-flight", "4", "--data-size-kb", "64"}
		}},
		{"wave", func(string) []string {
			return []string{"--l2-adapter", `{"type":"mock","max_size_gb":8,"mock_bandwidth_gb":0.01}`, "--rounds", "1000",
				"--num-keys", "4", "--in-flight", "4", "--data-size-kb", "64"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(t.TempDir(), "run.jsonl")
			w := &signalOnLine{trigger: "  [Store] Round ", times: 2} // the measured store is under way
			code := run(append([]string{"l2"}, append(tc.args(dir), "--out", out)...), strings.NewReader(""), io.Discard, w)
			sent := w.Close()
			stderr := w.String()
			if !sent || code != ExitInterrupted {
				t.Fatalf("exit %d, want 130 (signal sent: %v); stderr: %s", code, sent, stderr)
			}
			data, _ := os.ReadFile(out)
			if !bytes.HasSuffix(data, []byte("}\n")) {
				t.Fatalf("last line incomplete: %q", data[max(0, len(data)-80):])
			}
			sums := events(jsonl(t, string(data)), "summary")
			if len(sums) == 0 || sums[len(sums)-1]["interrupted"] != true || sums[0]["op"] != "store" || sums[0]["interrupted"] != true {
				t.Fatalf("summaries %v", sums)
			}
			if !strings.Contains(stderr, "L2 Adapter Benchmark Result") || !strings.Contains(stderr, "INTERRUPTED") {
				t.Fatalf("no summary on stderr: %s", stderr)
			}
			noTempFiles(t, dir)
		})
	}
}

// signalOnLine is a stderr that, once trigger has been written times times
// (at least once), sends this process a SIGINT: at once, or when ready (polled
// every millisecond from then on) first returns true. after, if set, is
// polled the same way from the signal until Close. Close ends the polling
// and waits for it.
type signalOnLine struct {
	trigger string
	times   int
	ready   func() bool
	after   func()

	mu    sync.Mutex
	buf   bytes.Buffer
	armed bool
	sent  bool
	stop  chan struct{}
	done  chan struct{}
}

func (w *signalOnLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.armed && strings.Count(w.buf.String(), w.trigger) >= max(w.times, 1) {
		w.armed = true
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.fire()
	}
	return n, err
}

func (w *signalOnLine) fire() {
	defer close(w.done)
	poll := func(f func() bool) bool { // false: stopped first
		for !f() {
			select {
			case <-w.stop:
				return false
			case <-time.After(time.Millisecond):
			}
		}
		return true
	}
	if w.ready != nil && !poll(w.ready) {
		return
	}
	w.mu.Lock()
	w.sent = true
	w.mu.Unlock()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if w.after != nil {
		poll(func() bool { w.after(); return false })
	}
}

// Close stops the polling and waits for it; it reports whether the signal
// was sent.
func (w *signalOnLine) Close() bool {
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sent
}

func (w *signalOnLine) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// residentBytes is this process's resident set size (/proc/self/statm),
// 0 if it cannot be read.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0
	}
	return resident * int64(os.Getpagesize())
}

// TestL2InterruptDuringSetupExits130: a Ctrl-C while the payload buffers
// are being filled ends the fill promptly, with exit 130, the summary
// saying INTERRUPTED on stderr and in the JSONL, no round run and nothing
// left in the base path. The fill touches the buffer's pages for the
// first time, so the process's resident memory measures its progress, in
// bytes, whatever the machine's speed: the signal goes once 8 MiB of one
// 512 MiB key have been filled, and the fill may go on for less than half
// of what remains (it looks for a Ctrl-C every 8 MiB; one that looked
// only between keys would fill the whole key first).
func TestL2InterruptDuringSetupExits130(t *testing.T) {
	const size = 512 << 20
	var base, atSignal, peak int64
	stderr := &signalOnLine{trigger: "[Init] Adapter created successfully",
		ready: func() bool {
			r := residentBytes()
			if base == 0 {
				base = r
			}
			if r < base+8<<20 {
				return false
			}
			atSignal, peak = r, r
			return true
		},
		after: func() { peak = max(peak, residentBytes()) },
	}
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "run.jsonl")
	code := run([]string{"l2", "--l2-adapter", fsJSON(dir, ""), "--num-keys", "1", "--data-size-kb", fmt.Sprint(size >> 10),
		"--only", "store", "--out", out}, strings.NewReader(""), io.Discard, stderr)
	sent := stderr.Close()
	if !sent || code != ExitInterrupted {
		t.Fatalf("exit %d, want 130 (signal sent: %v); stderr: %s", code, sent, stderr.String())
	}
	grew := peak - atSignal
	t.Logf("resident memory: %d MiB at the adapter, %d MiB at the Ctrl-C, at most %d MiB more after it", base>>20, atSignal>>20, grew>>20)
	if remaining := base + size - atSignal; grew > remaining/2 {
		t.Fatalf("the fill went on for %d MiB after the Ctrl-C, of the %d MiB left of the key: not prompt", grew>>20, remaining>>20)
	}
	data, _ := os.ReadFile(out)
	ls := jsonl(t, string(data))
	sums := events(ls, "summary")
	if len(events(ls, "round")) != 0 || len(sums) == 0 || sums[len(sums)-1]["interrupted"] != true || sums[len(sums)-1]["status"] != "INTERRUPTED" {
		t.Fatalf("JSONL after a Ctrl-C during setup: %s", data)
	}
	if !strings.Contains(stderr.String(), "L2 Adapter Benchmark Result") || !strings.Contains(stderr.String(), "INTERRUPTED") {
		t.Fatalf("no summary on stderr: %s", stderr.String())
	}
}

// TestL2ExampleCommand runs the binary's help to keep flags documented.
func TestL2Help(t *testing.T) {
	code, stdout, _ := runL2(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"--l2-adapter", "--num-keys", "--in-flight", "--data-size-kb", "--l1-align-bytes", "--rounds",
		"--warmup-rounds", "--lookup-max-hit-rate", "--[no-]skip-verify", "--only", "--format", "--output", "-q", "--out",
		"--mode", "--duration", "--io-workers", "--pin-cpus", "--hugepages", "--load-buffers", "--publish", "--drop-caches", "--raw", "--round-timeout"} {
		if !strings.Contains(stdout, f) {
			t.Errorf("help lacks %s", f)
		}
	}
}

// TestL2FailedWaitExits1: a wait for completions that fails (poll EBADF,
// injected from its 3rd call on, 1000 times) ends the run with one line
// naming the operation and the cause and exit 1, after the stores running
// then finished (no temp file left); the JSONL stream has the error line
// and is complete: the failure is not taken for a timeout and retried by
// the drain (which a persistent failure would keep spinning).
func TestL2FailedWaitExits1(t *testing.T) {
	var calls, failed atomic.Int64
	l2ConfigHook = func(c *l2.Config) {
		c.Poll = func(fds []unix.PollFd, ms int) (int, error) {
			if calls.Add(1) >= 3 && failed.Load() < 1000 {
				failed.Add(1)
				return 0, unix.EBADF
			}
			return unix.Poll(fds, ms)
		}
	}
	t.Cleanup(func() { l2ConfigHook = nil })
	dir := t.TempDir()
	code, stdout, stderr := runL2(t, "--l2-adapter", fsJSON(dir, ""), "--num-keys", "16", "--in-flight", "2",
		"--data-size-kb", "64", "--rounds", "3", "-q")
	want := "lmfast: store: waiting for completions: poll: bad file descriptor\n"
	if code != ExitFailure || withoutFSNote(stderr) != want || failed.Load() != 1 {
		t.Fatalf("exit %d, %d failed polls, stderr %q; want exit 1, 1 failed poll, %q", code, failed.Load(), stderr, want)
	}
	errs := events(jsonl(t, stdout), "error")
	if len(errs) != 1 || errs[0]["error"] != strings.TrimSuffix(strings.TrimPrefix(want, "lmfast: "), "\n") {
		t.Fatalf("error lines %v", errs)
	}
	noTempFiles(t, dir)
}

// TestL2BufferedStoreWorkersDefault: without --io-workers or fs_native's
// num_workers, buffered stores are capped at 4 threads per CPU (per pinned
// CPU with --pin-cpus); either of those two turns the cap off.
func TestL2BufferedStoreWorkersDefault(t *testing.T) {
	perCPU := 4 * runtime.NumCPU()
	tests := []struct {
		name string
		spec func(dir string) string
		args []string
		want float64
	}{
		{"default", func(d string) string { return fsJSON(d, "") }, nil, float64(perCPU)},
		{"pinned", func(d string) string { return fsJSON(d, "") }, []string{"--pin-cpus", "0"}, 4},
		{"io workers given", func(d string) string { return fsJSON(d, "") }, []string{"--io-workers", "3"}, 0},
		{"num_workers given", func(d string) string {
			b, _ := json.Marshal(d)
			return `{"type":"fs_native","base_path":` + string(b) + `,"num_workers":3}`
		}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--l2-adapter", tc.spec(t.TempDir()), "--num-keys", "2", "--in-flight", "2",
				"--data-size-kb", "16", "--rounds", "1", "--warmup-rounds", "0", "-q"}, tc.args...)
			code, stdout, stderr := runL2(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			cfg := events(jsonl(t, stdout), "config")
			if len(cfg) != 1 || cfg[0]["buffered_store_workers"] != tc.want {
				t.Fatalf("buffered_store_workers %v, want %v", cfg[0]["buffered_store_workers"], tc.want)
			}
		})
	}
}
