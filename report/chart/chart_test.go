package chart

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot/vg"

	"github.com/lmfast/lmfast/report"
)

// lines writes JSONL lines as lmfast does into a file and reads it back.
type lines struct {
	t   *testing.T
	cmd string
	b   bytes.Buffer
	t0  time.Time
}

func newLines(t *testing.T, cmd string) *lines {
	l := &lines{t: t, cmd: cmd, t0: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	l.add(0, "config", map[string]any{"schema": report.Schema, "interval_s": 1.0})
	return l
}

func (l *lines) add(sec float64, event string, f map[string]any) {
	m := map[string]any{"time": l.t0.Add(time.Duration(sec * 1e9)).Format(time.RFC3339Nano), "event": event, "run": "r", "proc": 0, "cmd": l.cmd}
	for k, v := range f {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		l.t.Fatal(err)
	}
	l.b.Write(append(b, '\n'))
}

func (l *lines) input() *report.Input {
	p := filepath.Join(l.t.TempDir(), "run.jsonl")
	if err := os.WriteFile(p, l.b.Bytes(), 0o644); err != nil {
		l.t.Fatal(err)
	}
	in, err := report.Read([]string{p}, nil)
	if err != nil {
		l.t.Fatal(err)
	}
	return in
}

func enc(t *testing.T, base int64, n int) string {
	h := hdrhistogram.New(1, 3600e9, 3)
	for i := range n {
		h.RecordValue(base + int64(i*i))
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// controllerRun is a controller run with interval lines that carry
// histograms, and summaries.
func controllerRun(t *testing.T, received bool) *lines {
	l := newLines(t, "controller")
	for s := 1; s <= 3; s++ {
		for _, op := range []string{"admit", "p2p_lookup"} {
			l.add(float64(s), "interval", map[string]any{"op": op, "t_s": float64(s), "interval_s": 1.0, "requests": 100, "rps": 100.0,
				"hdr": enc(t, 2000, 100), "hdr_corrected": enc(t, 5000, 100)})
		}
		all := map[string]any{"op": "all", "t_s": float64(s), "interval_s": 1.0, "requests": 200, "rps": 200.0}
		if received {
			all["received_fps"] = 101.0
		}
		l.add(float64(s), "interval", all)
	}
	for _, op := range []string{"admit", "p2p_lookup"} {
		l.add(3.1, "summary", map[string]any{"op": op, "requests": 300, "duration_s": 3.0, "hdr": enc(t, 2000, 300), "hdr_corrected": enc(t, 5000, 300)})
	}
	return l
}

// TestPanelsFollowData: each panel is drawn exactly when its data is in
// the input, and an input with nothing to draw is ErrNoData.
func TestPanelsFollowData(t *testing.T) {
	latency := func(op, kind string) string { return LatencyOver + ": " + op + " (" + kind + ")" }
	cases := []struct {
		name string
		in   *report.Input
		want []string
	}{
		{"controller run", controllerRun(t, false).input(), []string{Throughput,
			latency("admit", "latency"), latency("admit", "corrected"), latency("p2p_lookup", "latency"), latency("p2p_lookup", "corrected"), Spectrum}},
		{"summaries only", func() *report.Input {
			l := newLines(t, "controller")
			l.add(1, "summary", map[string]any{"op": "p2p_lookup", "requests": 10, "duration_s": 1.0, "hdr": enc(t, 1000, 10)})
			return l.input()
		}(), []string{Spectrum}},
		{"sweep", func() *report.Input {
			l := newLines(t, "controller")
			l.b.Reset()
			l.add(0, "config", map[string]any{"schema": report.Schema, "slo": "p2p_lookup.p99<2ms"})
			for i, rate := range []float64{1000, 2000, 4000} {
				l.add(float64(i+1), "step", map[string]any{"step": i, "op": "p2p_lookup", "target_rps": rate, "achieved_rps": rate * 0.95,
					"duration_s": 1.0, "requests": 10, "hdr_corrected": enc(t, int64(rate*500), 10)})
			}
			l.add(4, "capacity", map[string]any{"capacity_rps": 2000.0})
			return l.input()
		}(), []string{SweepCurve, SweepRate}},
		{"l2", func() *report.Input {
			l := newLines(t, "l2")
			for r := 1; r <= 3; r++ {
				l.add(float64(r), "round", map[string]any{"op": "store", "round": r, "warmup": r == 1, "mbps": 100.0 * float64(r)})
			}
			return l.input()
		}(), []string{L2Rounds}},
	}
	for _, c := range cases {
		ch, err := Build(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := ch.Names(); !slices.Equal(got, c.want) {
			t.Errorf("%s: panels %q, want %q", c.name, got, c.want)
		}
	}
	// The controller's received frames join the throughput panel.
	ch, _ := Build(controllerRun(t, true).input())
	if title := ch.Rows[0][0].Plot.Title.Text; !strings.Contains(title, "controller-received") {
		t.Errorf("throughput title %q with received_fps", title)
	}
	if _, err := Build(newLines(t, "controller").input()); !errors.Is(err, ErrNoData) {
		t.Errorf("config only: %v, want ErrNoData", err)
	}
}

// TestRenderParses: the SVG is XML naming every panel, the PNG decodes at
// the chart's size, the HTML page holds the SVG.
func TestRenderParses(t *testing.T) {
	ch, err := Build(controllerRun(t, true).input())
	if err != nil {
		t.Fatal(err)
	}
	var svg bytes.Buffer
	if err := Render(&svg, ch, SVG); err != nil {
		t.Fatal(err)
	}
	text := xmlText(t, svg.Bytes())
	for _, title := range []string{"Throughput over time", "admit latency over time (service)", "p2p_lookup latency over time (corrected, from intended send)", "HdrHistogram spectrum", "99.9%"} {
		if !strings.Contains(text, title) {
			t.Errorf("svg lacks %q", title)
		}
	}
	var pngOut bytes.Buffer
	if err := Render(&pngOut, ch, PNG); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&pngOut)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	inches := func(l vg.Length) float64 { return float64(l / vg.Inch) }
	if wantW, wantH := int(math.Round(inches(Width)*96)), int(math.Round(inches(RowHeight)*96*float64(len(ch.Rows)))); b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("png %dx%d, want %dx%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	var html bytes.Buffer
	if err := Render(&html, ch, HTML); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	i, j := strings.Index(page, "<svg"), strings.LastIndex(page, "</svg>")
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || i < 0 || j < i || strings.Contains(page, "<?xml") {
		t.Fatalf("html page: %.200s", page)
	}
	if !strings.Contains(xmlText(t, []byte(page[i:j+len("</svg>")])), "Throughput over time") {
		t.Error("the page's svg lacks the throughput panel")
	}
}

// xmlText parses doc as XML and returns its character data.
func xmlText(t *testing.T, doc []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return text.String()
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
			text.WriteByte('\n')
		}
	}
}
