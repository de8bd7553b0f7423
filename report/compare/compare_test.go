package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/stats"
)

// runSpec describes a synthetic `lmfast controller` run.
type runSpec struct {
	run, label string
	proc       int
	intervals  int
	rps        float64 // requests/s of op p2p_lookup
	latency    float64 // mean latency, ns
	warmup     int     // extra leading intervals marked "warmup": true
	step       bool    // the interval lines carry a sweep step
}

// writeRun writes spec's config, interval and summary lines to a file in
// dir (appending when the file exists) and returns its path.
func writeRun(t *testing.T, dir, name string, spec runSpec, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	start := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	line := func(at time.Time, event string, f map[string]any) {
		m := map[string]any{"time": at.Format(time.RFC3339Nano), "event": event, "run": spec.run, "proc": spec.proc, "cmd": "controller"}
		for k, v := range f {
			m[k] = v
		}
		out, _ := json.Marshal(m)
		b.Write(append(out, '\n'))
	}
	label := spec.label
	if label == "" {
		label = spec.run
	}
	line(start, "config", map[string]any{"schema": "lmfast.v1", "interval_s": 1.0, "rate": spec.rps, "run_label": label})
	for i := range spec.warmup + spec.intervals {
		k := i - spec.warmup
		h := stats.NewHistogram()
		n := int(spec.rps)
		for range n {
			h.RecordValue(int64(spec.latency * (1 + 0.1*rng.NormFloat64())))
		}
		enc, err := stats.Encode(h)
		if err != nil {
			t.Fatal(err)
		}
		f := map[string]any{"op": "p2p_lookup", "t_s": float64(k + 1), "interval_s": 1.0, "requests": n,
			"rps": float64(n) * (1 + 0.02*rng.NormFloat64()), "hdr": enc, "hdr_corrected": enc}
		if i < spec.warmup {
			f["warmup"] = true
		}
		if spec.step {
			f["step"] = 1
		}
		at := start.Add(time.Duration(k+1) * time.Second)
		line(at, "interval", f)
		line(at, "interval", map[string]any{"op": "all", "t_s": float64(k + 1), "interval_s": 1.0, "requests": n, "rps": float64(n)})
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, name string, files ...string) *Set {
	t.Helper()
	s, err := Load(name, files, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func row(t *testing.T, res *Result, op, metric string) Row {
	t.Helper()
	for _, r := range res.Rows {
		if r.Op == op && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s %s in %+v", op, metric, res.Rows)
	return Row{}
}

// TestCompareVerdicts: a 30 % latency rise over 10+10 intervals is a
// significant regression of every percentile; the reverse comparison is
// an improvement; equal rates are no significant change; the same file
// on both sides has p = 1 everywhere.
func TestCompareVerdicts(t *testing.T) {
	dir := t.TempDir()
	fa := writeRun(t, dir, "a.jsonl", runSpec{run: "a", intervals: 10, rps: 300, latency: 1e6}, 1)
	fb := writeRun(t, dir, "b.jsonl", runSpec{run: "b", intervals: 10, rps: 300, latency: 1.3e6}, 2)
	a, b := load(t, "A", fa), load(t, "B", fb)
	res, err := Compare(a, b, Options{Threshold: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"p50", "p90", "p99", "p99.9"} {
		r := row(t, res, "p2p_lookup", q)
		if r.Verdict != Regression || r.Delta < 0.2 || r.Delta > 0.4 || r.Latency != "corrected" || r.NA != 10 || r.NB != 10 {
			t.Errorf("%s: %+v; want a regression of about +30%% on 10+10 corrected intervals", q, r)
		}
	}
	if r := row(t, res, "p2p_lookup", "rate"); r.Verdict != NoChange || r.Test != TestU {
		t.Errorf("rate: %+v; want no significant change by U", r)
	}
	if res.Regressions != 4 || res.Improvements != 0 || !strings.Contains(res.Summary(), "4 significant regression(s) beyond 5%") {
		t.Errorf("%d regressions, %d improvements, %q", res.Regressions, res.Improvements, res.Summary())
	}
	rev, _ := Compare(b, a, Options{Threshold: 0.05})
	if rev.Regressions != 0 || rev.Improvements != 4 {
		t.Errorf("reversed: %d regressions, %d improvements; want 0, 4", rev.Regressions, rev.Improvements)
	}
	wide, _ := Compare(a, b, Options{Threshold: 0.5})
	if wide.Regressions != 0 || row(t, wide, "p2p_lookup", "p50").Verdict != WithinThreshold {
		t.Errorf("--threshold 50%%: %d regressions; p50 %+v", wide.Regressions, row(t, wide, "p2p_lookup", "p50"))
	}
	self, _ := Compare(a, load(t, "B", fa), Options{Threshold: 0.05})
	for _, r := range self.Rows {
		if r.P != 1 || r.Delta != 0 || r.Verdict != NoChange {
			t.Errorf("self-comparison: %+v; want p 1, no change", r)
		}
	}
	// A throughput drop of 20 % is a regression of the rate.
	fc := writeRun(t, dir, "c.jsonl", runSpec{run: "c", intervals: 10, rps: 240, latency: 1e6}, 3)
	low, _ := Compare(a, load(t, "B", fc), Options{Threshold: 0.05})
	if r := row(t, low, "p2p_lookup", "rate"); r.Verdict != Regression || math.Abs(r.Delta+0.2) > 0.03 {
		t.Errorf("rate drop: %+v; want a regression of about -20%%", r)
	}
	var out bytes.Buffer
	if err := Write(&out, res, JSON); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Schema      string `json:"schema"`
		Regressions int    `json:"regressions"`
		Rows        []struct {
			Op, Metric, Verdict string
			P                   float64
			PAdj                float64 `json:"p_adjusted"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || js.Schema != "lmfast.compare.v1" || js.Regressions != 4 || len(js.Rows) != len(res.Rows) {
		t.Errorf("json: %v %+v", err, js)
	}
	for _, f := range []Format{Text, MD} {
		out.Reset()
		if err := Write(&out, res, f); err != nil || !strings.Contains(out.String(), "regression") || !strings.Contains(out.String(), "10+10") {
			t.Errorf("%s: %v\n%s", f, err, out.String())
		}
	}
}

// TestLoadRunsAndProcesses: two files of one run label (two processes)
// are one run whose rates add up; two run labels in one set are two runs
// whose intervals are separate samples; warm-up intervals are left out.
func TestLoadRunsAndProcesses(t *testing.T) {
	dir := t.TempDir()
	p0 := writeRun(t, dir, "p0.jsonl", runSpec{run: "r0", label: "L", proc: 0, intervals: 5, rps: 100, latency: 1e6, warmup: 2}, 1)
	p1 := writeRun(t, dir, "p1.jsonl", runSpec{run: "r1", label: "L", proc: 1, intervals: 5, rps: 100, latency: 1e6, warmup: 2}, 2)
	s := load(t, "A", p0, p1)
	ivs := s.Interval["p2p_lookup"]
	if len(s.Runs) != 1 || len(ivs) != 5 {
		t.Fatalf("runs %v, %d intervals; want one run of 5 intervals", s.Runs, len(ivs))
	}
	for _, iv := range ivs {
		if iv.Requests != 200 || iv.Rate < 180 || iv.Rate > 220 || iv.Hists["hdr"].Total() != 200 {
			t.Errorf("interval %+v: want 200 requests of both processes, about 200/s", iv)
		}
	}
	other := writeRun(t, dir, "other.jsonl", runSpec{run: "r2", intervals: 5, rps: 100, latency: 1e6}, 3)
	s = load(t, "A", p0, p1, other)
	if len(s.Runs) != 2 || len(s.Interval["p2p_lookup"]) != 10 {
		t.Errorf("runs %v, %d intervals; want 2 runs, 10 intervals", s.Runs, len(s.Interval["p2p_lookup"]))
	}
}

// TestLoadRefuses: a missing file, a file without lmfast lines, a file
// without interval lines and a sweep's intervals are errors naming the
// set; no common operation is ErrNoCommonOps.
func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello\nworld\n"), 0o644)
	cfgOnly := filepath.Join(dir, "cfg.jsonl")
	os.WriteFile(cfgOnly, []byte(`{"time":"2026-12-05T12:00:00Z","event":"config","run":"x","proc":0,"cmd":"controller","schema":"lmfast.v1"}`+"\n"), 0o644)
	sweep := writeRun(t, dir, "sweep.jsonl", runSpec{run: "s", intervals: 2, rps: 10, latency: 1e6, step: true}, 1)
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.jsonl"), "A: open"},
		{text, "A: no lmfast JSONL lines"},
		{cfgOnly, "A: no interval lines"},
		{sweep, "compare compares runs, not sweeps"},
	} {
		_, err := Load("A", []string{tc.file}, strings.NewReader(""))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.file, err, tc.want)
		}
	}
	a := load(t, "A", writeRun(t, dir, "a.jsonl", runSpec{run: "a", intervals: 3, rps: 10, latency: 1e6}, 1))
	b := &Set{Name: "B", Cmd: "controller", Ops: []string{"heartbeat"}, Interval: map[string][]Interval{"heartbeat": nil}}
	if _, err := Compare(a, b, Options{}); err == nil || !strings.Contains(err.Error(), ErrNoCommonOps.Error()) {
		t.Errorf("no common op: %v", err)
	}
}

func ExamplePercentileName() {
	fmt.Println(PercentileName(50), PercentileName(99.9))
	// Output: p50 p99.9
}

// TestCompareUnitRun: with --unit run each run is one sample. Six runs a
// side, B's latency 30 % higher: n is 6+6, every split of the 12 runs is
// evaluated (C(12, 6) = 924), and the two most extreme of them are the
// observed one and its mirror, so p = 2/924 for every percentile; Holm
// over the 6 rows (the rate and the percentiles of p2p_lookup, the rate
// of all) keeps them below 0.05: regressions. With --unit interval the
// same sets have 18+18 samples.
func TestCompareUnitRun(t *testing.T) {
	dir := t.TempDir()
	var fa, fb []string
	for i := range 6 {
		fa = append(fa, writeRun(t, dir, fmt.Sprintf("a%d.jsonl", i), runSpec{run: fmt.Sprintf("a%d", i), intervals: 3, rps: 200, latency: 1e6}, uint64(10+i)))
		fb = append(fb, writeRun(t, dir, fmt.Sprintf("b%d.jsonl", i), runSpec{run: fmt.Sprintf("b%d", i), intervals: 3, rps: 200, latency: 1.3e6}, uint64(20+i)))
	}
	a, b := load(t, "A", fa...), load(t, "B", fb...)
	res, err := Compare(a, b, Options{Threshold: 0.05, Unit: UnitRun})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"p50", "p90", "p99", "p99.9"} {
		r := row(t, res, "p2p_lookup", q)
		if r.NA != 6 || r.NB != 6 || !r.Exact || math.Abs(r.P-2.0/924) > 1e-12 || r.Verdict != Regression {
			t.Errorf("%s: %+v; want 6+6 runs, exact p 2/924, a regression", q, r)
		}
	}
	if r := row(t, res, "p2p_lookup", "rate"); r.NA != 6 || r.NB != 6 {
		t.Errorf("rate: %d+%d samples; want 6+6 runs", r.NA, r.NB)
	}
	iv, _ := Compare(a, b, Options{Threshold: 0.05})
	if r := row(t, iv, "p2p_lookup", "p50"); r.NA != 18 || r.NB != 18 {
		t.Errorf("--unit interval: %d+%d samples; want 18+18", r.NA, r.NB)
	}
}
