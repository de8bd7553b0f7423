package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// stream builds JSONL lines the way lmfast writes them.
type stream struct {
	b   bytes.Buffer
	cmd string
	run string
}

func (s *stream) line(t time.Time, event string, proc int, fields map[string]any) {
	m := map[string]any{"time": t.UTC().Format(time.RFC3339Nano), "event": event, "run": s.run, "proc": proc, "cmd": s.cmd}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	s.b.Write(append(b, '\n'))
}

// hist records values (ns) and returns the histogram and its encoding.
func hist(t *testing.T, values ...int64) (*hdrhistogram.Histogram, string) {
	t.Helper()
	h := hdrhistogram.New(1, 3600e9, 3)
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return h, string(enc)
}

func readStrings(t *testing.T, files map[string]string) *Input {
	t.Helper()
	var names []string
	for name := range files {
		names = append(names, name)
	}
	// The reader reads each file from memory under its name.
	in := &Input{Configs: map[string]*Line{}, Events: map[string]int{}}
	r := &reader{in: in, seen: map[source]string{}, seenIdx: map[source]int{}}
	for i, name := range sortStrings(names) {
		r.idx = i
		in.Files = append(in.Files, name)
		if err := r.file(name, strings.NewReader(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// TestIntervalsAlignOnWallTime: two processes started 300 ms apart write
// 1 s intervals with their own histograms; --by interval puts each
// process's n-th interval in the same wall-clock interval, sums counts,
// merges histograms exactly, names the skew, and the hlog of it reads back
// with hdrhistogram-go's log reader with the same counts.
func TestIntervalsAlignOnWallTime(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	files := map[string]string{}
	want := map[int]*hdrhistogram.Histogram{}
	for p, offset := range []time.Duration{0, 300 * time.Millisecond} {
		s := &stream{cmd: "controller", run: fmt.Sprintf("run%d", p)}
		start := t0.Add(offset)
		s.line(start, "config", 0, map[string]any{"schema": Schema, "interval_s": 1.0})
		for i := 1; i <= 3; i++ {
			var vals []int64
			for v := range 50 * i {
				vals = append(vals, int64(1000*(p+1)*(v+1)))
			}
			h, enc := hist(t, vals...)
			if want[i-1] == nil {
				want[i-1] = hdrhistogram.New(1, 3600e9, 3)
			}
			want[i-1].Merge(h)
			s.line(start.Add(time.Duration(i)*time.Second), "interval", 0, map[string]any{
				"op": "p2p_lookup", "t_s": float64(i), "interval_s": 1.0, "requests": len(vals), "rps": float64(len(vals)), "hdr": enc})
		}
		files[fmt.Sprintf("p%d.jsonl", p)] = s.b.String()
	}
	rep, err := Merge(readStrings(t, files), ByInterval, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 {
		t.Fatalf("%d rows, want 3 intervals", len(rep.Rows))
	}
	for i, r := range rep.Rows {
		if r.Sources != 2 || r.Counts["requests"] != int64(100*(i+1)) || r.Rates["rps"] != float64(100*(i+1)) {
			t.Errorf("interval %d: %d sources, %d requests, %v rps", i, r.Sources, r.Counts["requests"], r.Rates["rps"])
		}
		for _, q := range []float64{50, 99, 99.9} {
			if got, w := r.Hists["hdr"].ValueAtQuantile(q), want[i].ValueAtQuantile(q); got != w {
				t.Errorf("interval %d p%v: %d, want %d", i, q, got, w)
			}
		}
	}
	if rep.Skew < 0.29 || rep.Skew > 0.31 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "300 ms apart") {
		t.Errorf("skew %v, warnings %v", rep.Skew, rep.Warnings)
	}
	var out bytes.Buffer
	if err := Write(&out, rep, HLog); err != nil {
		t.Fatal(err)
	}
	lr := hdrhistogram.NewHistogramLogReader(&out)
	for i := 0; ; i++ {
		h, err := lr.NextIntervalHistogram()
		if err != nil || (h == nil && i != 3) {
			t.Fatalf("interval %d: %v, %v", i, h, err)
		}
		if h == nil {
			break
		}
		if h.Tag() != "p2p_lookup" || h.TotalCount() != want[i].TotalCount() || h.Max() != want[i].Max() {
			t.Errorf("hlog interval %d: tag %q, %d values, max %d", i, h.Tag(), h.TotalCount(), h.Max())
		}
		if s := time.UnixMilli(h.StartTimeMs()); s.Sub(t0) != time.Duration(i)*time.Second {
			t.Errorf("hlog interval %d starts %v after the origin", i, s.Sub(t0))
		}
	}
}

// TestStepsAndUnknownEvents: sweep step lines (per op, or with an "ops"
// object) are grouped by step; capacity and unknown event kinds are carried
// into the json; the aggregate summary of proc -1 is not counted twice; a
// source without a summary contributes its intervals, marked partial.
func TestStepsAndUnknownEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := &stream{cmd: "controller", run: "sweep"}
	s.line(t0, "config", 0, map[string]any{"schema": Schema})
	_, enc1 := hist(t, 100e3, 200e3)
	_, enc2 := hist(t, 300e3, 400e3, 500e3)
	s.line(t0.Add(time.Second), "step", 0, map[string]any{"step": 0, "target_rps": 1000, "achieved_rps": 990, "duration_s": 1.0,
		"ops": map[string]any{"p2p_lookup": map[string]any{"requests": 2, "hdr_corrected": enc1}}})
	s.line(t0.Add(2*time.Second), "step", 0, map[string]any{"step": 1, "op": "p2p_lookup", "target_rps": 2000, "achieved_rps": 1500,
		"duration_s": 1.0, "requests": 3, "hdr_corrected": enc2})
	s.line(t0.Add(3*time.Second), "capacity", 0, map[string]any{"capacity_rps": 1000, "failed_term": "p2p_lookup.p99<2ms"})
	s.line(t0.Add(3*time.Second), "brand_new_kind", 0, map[string]any{"x": 1})
	in := readStrings(t, map[string]string{"sweep.jsonl": s.b.String()})
	rep, err := Merge(in, ByStep, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Step != 0 || rep.Rows[1].Rates["achieved_rps"] != 1500 || rep.Rows[0].Rates["target_rps"] != 1000 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	if l, ok := rep.Rows[1].Latency("hdr_corrected"); !ok || l.Count != 3 || l.Max < 500 {
		t.Errorf("step 1 corrected latency %+v", l)
	}
	var out bytes.Buffer
	if err := Write(&out, rep, JSON); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Carried []map[string]any `json:"carried"`
		Events  map[string]int   `json:"events"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Carried) != 2 || got.Carried[0]["event"] != "capacity" || got.Carried[1]["event"] != "brand_new_kind" || got.Events["step"] != 2 {
		t.Errorf("carried %v, events %v", got.Carried, got.Events)
	}
	out.Reset()
	if err := Write(&out, rep, CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "step" {
		t.Errorf("csv %v %v", recs, err)
	}

	// A two-group run: proc -1's aggregate is skipped; proc 1 has no
	// summary (interrupted) and is merged from its interval.
	g := &stream{cmd: "controller", run: "groups"}
	g.line(t0, "config", 0, map[string]any{"schema": Schema})
	g.line(t0.Add(time.Second), "interval", 1, map[string]any{"op": "admit", "t_s": 1.0, "interval_s": 1.0, "requests": 7, "rps": 7.0})
	g.line(t0.Add(2*time.Second), "summary", 0, map[string]any{"op": "admit", "requests": 10, "rps": 5.0, "duration_s": 2.0})
	g.line(t0.Add(2*time.Second), "summary", -1, map[string]any{"op": "admit", "requests": 17, "rps": 12.0, "duration_s": 2.0})
	rep, err = Merge(readStrings(t, map[string]string{"g.jsonl": g.b.String()}), ByOp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Rows[0]; len(rep.Rows) != 1 || r.Counts["requests"] != 17 || r.Rates["rps"] != 12 || !r.Partial || r.Sources != 2 {
		t.Errorf("row %+v", r)
	}
}

// TestPercentilesNeverAveraged: two sources whose latencies differ: the
// merged p99 is the p99 of both together, not the mean of their p99s, and
// sources without histograms leave the merged percentiles out.
func TestPercentilesNeverAveraged(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	files := map[string]string{}
	var fast, slow []int64
	for i := range 990 {
		fast = append(fast, int64(100e3+i))
	}
	for i := range 10 {
		slow = append(slow, int64(50e6+i))
	}
	for p, vals := range [][]int64{fast, slow} {
		s := &stream{cmd: "controller", run: fmt.Sprintf("r%d", p)}
		_, enc := hist(t, vals...)
		s.line(t0, "summary", 0, map[string]any{"op": "p2p_lookup", "requests": len(vals), "hdr": enc, "latency_us": map[string]any{"p99": 1.0}})
		files[fmt.Sprintf("f%d", p)] = s.b.String()
	}
	rep, err := Merge(readStrings(t, files), ByOp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := rep.Rows[0].Latency("hdr")
	if l.P99 < 99 || l.P99 > 101 || l.P999 < 49900 || l.Count != 1000 {
		t.Errorf("merged p99 %v µs, p99.9 %v µs, count %d; want ~100 µs and ~50 ms", l.P99, l.P999, l.Count)
	}
	s := &stream{cmd: "controller", run: "old"}
	s.line(t0, "summary", 0, map[string]any{"op": "p2p_lookup", "requests": 5, "latency_us": map[string]any{"count": 5.0, "p99": 3.0}})
	files["old"] = s.b.String()
	rep, err = Merge(readStrings(t, files), ByOp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rep.Rows[0].Latency("hdr"); ok || len(rep.Warnings) != 1 {
		t.Errorf("a source without hdr: percentiles given anyway, warnings %v", rep.Warnings)
	}
}
