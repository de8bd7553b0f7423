package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/report"
)

// ErrNoData is returned by Build when the input has nothing to draw.
var ErrNoData = errors.New("no plottable data (need interval, summary with hdr, step or round lines)")

// Panel names, as Chart.Names lists them.
const (
	Throughput  = "throughput"
	LatencyOver = "latency over time" // followed by ": op (kind)"
	Spectrum    = "percentile spectrum"
	SweepCurve  = "sweep latency"
	SweepRate   = "sweep rate"
	L2Rounds    = "l2 throughput"
)

// Panel is one plot of a chart.
type Panel struct {
	Name string
	Plot *plot.Plot
}

// Chart is panels in rows of one or two.
type Chart struct {
	Rows [][]*Panel
}

// Names lists the chart's panels, row by row.
func (c *Chart) Names() []string {
	var out []string
	for _, row := range c.Rows {
		for _, p := range row {
			out = append(out, p.Name)
		}
	}
	return out
}

// palette gives every operation the same color in every panel, in the
// order the operations first appear in the input.
type palette map[string]int

func (p palette) of(op string) int {
	if i, ok := p[op]; ok {
		return i
	}
	return len(p)
}

// Build makes the panels in's data supports.
func Build(in *report.Input) (*Chart, error) {
	colors := palette{}
	for _, l := range in.Lines {
		if _, ok := colors[l.Op]; l.Op != "" && !ok {
			colors[l.Op] = len(colors)
		}
	}
	c := &Chart{}
	if rep, err := report.Merge(in, report.ByInterval, report.Options{}); err == nil {
		if p := throughput(rep, colors); p != nil {
			c.Rows = append(c.Rows, []*Panel{p})
		}
		c.Rows = append(c.Rows, latencyOverTime(rep)...)
	}
	if rep, err := report.Merge(in, report.ByStep, report.Options{}); err == nil {
		if row := sweep(rep, in, colors); len(row) > 0 {
			c.Rows = append(c.Rows, row)
		}
	}
	if p := l2Rounds(in, colors); p != nil {
		c.Rows = append(c.Rows, []*Panel{p})
	}
	if rep, err := report.Merge(in, report.ByOp, report.Options{}); err == nil {
		if p := spectrum(rep, colors); p != nil {
			c.Rows = append(c.Rows, []*Panel{p})
		}
	}
	if len(c.Rows) == 0 {
		return nil, ErrNoData
	}
	return c, nil
}

// style returns the color of series i and whether it is dashed.
func styleLine(l *plotter.Line, i int, dashed bool, width vg.Length) {
	l.Color = plotutil.Color(i)
	l.Width = width
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// logY makes p's y axis logarithmic over [lo, hi] (both > 0).
func logY(p *plot.Plot, lo, hi float64) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
}

// ops returns the rows' operations, "all" excluded, in first-seen order.
func ops(rows []*report.Row) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Op != "all" && !seen[r.Op] {
			seen[r.Op] = true
			out = append(out, r.Op)
		}
	}
	return out
}

// kindTitle names a histogram kind for a command.
func kindTitle(cmd, field string) string {
	switch {
	case field == "hdr" && cmd == "controller":
		return "service"
	case field == "hdr" && cmd == "l2":
		return "per-key latency"
	case field == "hdr_corrected":
		return "corrected, from intended send"
	case field == "hdr_service":
		return "service"
	}
	return field
}

func throughput(rep *report.Report, colors palette) *Panel {
	p := newPlot("Throughput over time", "seconds since the first interval started", "per second")
	n, top := 0, 0.0
	for _, op := range append(ops(rep.Rows), "all") {
		i := colors.of(op)
		var xys plotter.XYs
		for _, r := range rep.Rows {
			if v, ok := r.Rates["rps"]; ok && r.Op == op {
				xys = append(xys, plotter.XY{X: r.T + r.Covered, Y: v})
				top = math.Max(top, v)
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, _ := plotter.NewLine(xys)
		name := op + " requests/s sent"
		if op == "all" {
			name = "all ops, requests/s sent"
			styleLine(l, i, false, vg.Points(2.2))
		} else {
			styleLine(l, i, false, vg.Points(1.2))
		}
		p.Add(l)
		p.Legend.Add(name, l)
		n++
	}
	var recv plotter.XYs
	for _, r := range rep.Rows {
		if v, ok := r.Rates["received_fps"]; ok && r.Op == "all" {
			recv = append(recv, plotter.XY{X: r.T + r.Covered, Y: v})
			top = math.Max(top, v)
		}
	}
	if len(recv) > 0 {
		l, _ := plotter.NewLine(recv)
		styleLine(l, 7, true, vg.Points(2))
		l.Color = color.Black
		p.Add(l)
		p.Legend.Add("frames/s the controller received", l)
		p.Title.Text += ": sent and controller-received"
		n++
	}
	if n == 0 {
		return nil
	}
	p.Y.Min, p.Y.Max = 0, top*1.45 // room for the legend above the lines
	return &Panel{Name: Throughput, Plot: p}
}

// latencyOverTime gives one row per operation: service beside corrected.
func latencyOverTime(rep *report.Report) [][]*Panel {
	var rows [][]*Panel
	for _, op := range ops(rep.Rows) {
		var row []*Panel
		for _, kind := range report.HistKinds {
			p := newPlot(fmt.Sprintf("%s latency over time (%s)", op, kindTitle(rep.Cmd, kind.Field)), "seconds since the first interval started", "ms")
			lo, hi := math.Inf(1), 0.0
			n := 0
			for i, stat := range []string{"p50", "p99", "max"} {
				var xys plotter.XYs
				for _, r := range rep.Rows {
					if r.Op != op {
						continue
					}
					l, ok := r.Latency(kind.Field)
					if !ok || l.Count == 0 {
						continue
					}
					v := map[string]float64{"p50": l.P50, "p99": l.P99, "max": l.Max}[stat] / 1e3
					if v <= 0 {
						continue
					}
					xys = append(xys, plotter.XY{X: r.T + r.Covered, Y: v})
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
				if len(xys) == 0 {
					continue
				}
				l, _ := plotter.NewLine(xys)
				styleLine(l, i, kind.Field == "hdr_corrected", vg.Points(1.5))
				p.Add(l)
				p.Legend.Add(stat, l)
				n++
			}
			if n == 0 {
				continue
			}
			logY(p, lo, hi)
			row = append(row, &Panel{Name: fmt.Sprintf("%s: %s (%s)", LatencyOver, op, kind.Label), Plot: p})
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

// oneInN are the x ticks of a percentile spectrum: x = 1/(1-q).
var oneInN = []struct {
	x     float64
	label string
}{{1, "0%"}, {10, "90%"}, {100, "99%"}, {1e3, "99.9%"}, {1e4, "99.99%"}, {1e5, "99.999%"}, {1e6, "99.9999%"}, {1e7, "99.99999%"}}

// spectrum plots every merged histogram by percentile on the "1 in N"
// axis, as HdrHistogram's plotter does.
func spectrum(rep *report.Report, colors palette) *Panel {
	p := newPlot("Latency by percentile (HdrHistogram spectrum, merged)", "percentile (log scale of 1 in N)", "ms")
	lo, hi, maxN := math.Inf(1), 0.0, 1.0
	n := 0
	for _, op := range ops(rep.Rows) {
		i := colors.of(op)
		for _, r := range rep.Rows {
			if r.Op != op {
				continue
			}
			for _, kind := range report.HistKinds {
				h := r.Hists[kind.Field]
				if h == nil || r.Unmerged[kind.Field] || h.TotalCount() == 0 {
					continue
				}
				xys := spectrumPoints(h)
				for _, xy := range xys {
					lo, hi, maxN = math.Min(lo, xy.Y), math.Max(hi, xy.Y), math.Max(maxN, xy.X)
				}
				l, _ := plotter.NewLine(xys)
				styleLine(l, i, kind.Field != "hdr", vg.Points(1.5))
				p.Add(l)
				p.Legend.Add(fmt.Sprintf("%s (%s)", op, kindTitle(rep.Cmd, kind.Field)), l)
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, t := range oneInN {
		if t.x <= maxN*10 {
			ticks = append(ticks, plot.Tick{Value: t.x, Label: t.label})
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = 1, ticks[len(ticks)-1].Value
	logY(p, lo, hi)
	p.Legend.Top, p.Legend.Left = false, false // high percentiles are high: the lower right is free
	return &Panel{Name: Spectrum, Plot: p}
}

// spectrumPoints samples h at x = 1/(1-q) from 1 to its count, evenly on
// a log scale, in ms; the maximum is the point at x = count.
func spectrumPoints(h *hdrhistogram.Histogram) plotter.XYs {
	n := float64(h.TotalCount())
	const steps = 200
	var xys plotter.XYs
	for i := 0; i < steps; i++ {
		x := math.Pow(n, float64(i)/steps)
		q := 100 * (1 - 1/x)
		xys = append(xys, plotter.XY{X: x, Y: float64(h.ValueAtQuantile(q)) / 1e6})
	}
	// The last sample, the maximum, at 1 in N.
	return append(xys, plotter.XY{X: n, Y: float64(h.Max()) / 1e6})
}

// sloTerms returns the latency thresholds of the run's SLO: the "slo" of
// a capacity or config line.
func sloTerms(in *report.Input, opNames []string) []slo.Term {
	var spec string
	for _, l := range in.Lines {
		if s := l.Str("slo"); s != "" && (l.Event == "capacity" || l.Event == "config") {
			spec = s
		}
	}
	if spec == "" {
		return nil
	}
	var sops []slo.Op
	for _, n := range opNames {
		sops = append(sops, slo.Op{Name: n})
	}
	terms, err := slo.Parse(spec, sops)
	if err != nil {
		return nil
	}
	var out []slo.Term
	for _, t := range terms {
		if t.Stat.IsLatency() {
			out = append(out, t)
		}
	}
	return out
}

// capacityRate is the rate a capacity line names, if any.
func capacityRate(in *report.Input) (float64, bool) {
	for _, l := range in.Lines {
		if l.Event != "capacity" {
			continue
		}
		for _, f := range []string{"capacity_rps", "capacity", "highest_passing_rps", "passing_rps", "rate"} {
			if v, ok := l.Num(f); ok && v > 0 {
				return v, true
			}
		}
	}
	return 0, false
}

// achieved is a step row's achieved rate.
func achieved(r *report.Row) (float64, bool) {
	for _, f := range []string{"achieved_rps", "achieved"} {
		if v, ok := r.Rates[f]; ok {
			return v, true
		}
	}
	return 0, false
}

// sweep draws latency percentiles against the achieved rate of each step,
// the SLO's latency thresholds and the capacity; beside it, achieved
// against target.
func sweep(rep *report.Report, in *report.Input, colors palette) []*Panel {
	names := ops(rep.Rows)
	p := newPlot("Sweep: latency against achieved rate", "achieved requests/s", "ms")
	lo, hi, xmax := math.Inf(1), 0.0, 0.0
	n := 0
	for _, op := range names {
		i := colors.of(op)
		kind := "hdr"
		for _, r := range rep.Rows {
			if _, ok := r.Latency("hdr_corrected"); ok && r.Op == op {
				kind = "hdr_corrected"
			}
		}
		for j, stat := range []string{"p50", "p99", "max"} {
			var xys plotter.XYs
			for _, r := range rep.Rows {
				x, okX := achieved(r)
				l, ok := r.Latency(kind)
				if r.Op != op || !ok || !okX || l.Count == 0 {
					continue
				}
				v := map[string]float64{"p50": l.P50, "p99": l.P99, "max": l.Max}[stat] / 1e3
				if v <= 0 {
					continue
				}
				xys = append(xys, plotter.XY{X: x, Y: v})
				lo, hi, xmax = math.Min(lo, v), math.Max(hi, v), math.Max(xmax, x)
			}
			if len(xys) == 0 {
				continue
			}
			sort.Slice(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
			l, pts, _ := plotter.NewLinePoints(xys)
			styleLine(l, i, j != 1, vg.Points([]float64{1, 2, 1}[j]))
			pts.Color = l.Color
			p.Add(l, pts)
			p.Legend.Add(fmt.Sprintf("%s %s (%s)", op, stat, kindTitle(rep.Cmd, kind)), l)
			n++
		}
	}
	var row []*Panel
	if n > 0 {
		for _, t := range sloTerms(in, names) {
			y := t.Threshold / 1e6
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: xmax * 1.05, Y: y}})
			l.Color, l.Width, l.Dashes = color.RGBA{R: 200, A: 255}, vg.Points(2), []vg.Length{vg.Points(2), vg.Points(2)}
			p.Add(l)
			p.Legend.Add("SLO "+t.Text, l)
		}
		logY(p, lo, hi)
		if c, ok := capacityRate(in); ok {
			l, _ := plotter.NewLine(plotter.XYs{{X: c, Y: p.Y.Min}, {X: c, Y: p.Y.Max}})
			l.Color, l.Width = color.RGBA{G: 140, A: 255}, vg.Points(2.5)
			p.Add(l)
			p.Legend.Add("capacity "+strconv.FormatFloat(c, 'f', 0, 64)+" requests/s", l)
		}
		p.X.Min = 0
		row = append(row, &Panel{Name: SweepCurve, Plot: p})
	}
	// Achieved against target, one point per step.
	q := newPlot("Sweep: achieved against target rate", "target requests/s", "achieved requests/s")
	var xys plotter.XYs
	seen := map[int]bool{}
	for _, r := range rep.Rows {
		if seen[r.Step] {
			continue
		}
		t, okT := r.Rates["target_rps"]
		if !okT {
			t, okT = r.Rates["target"]
		}
		a, okA := achieved(r)
		if okT && okA {
			seen[r.Step] = true
			xys = append(xys, plotter.XY{X: t, Y: a})
		}
	}
	if len(xys) > 0 {
		sort.Slice(xys, func(a, b int) bool { return xys[a].X < xys[b].X })
		top := xys[len(xys)-1].X
		ideal, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: top, Y: top}})
		ideal.Color, ideal.Dashes = color.Gray{Y: 140}, []vg.Length{vg.Points(3), vg.Points(3)}
		l, pts, _ := plotter.NewLinePoints(xys)
		styleLine(l, 0, false, vg.Points(1.5))
		q.Add(ideal, l, pts)
		q.Legend.Add("achieved = target", ideal)
		q.Legend.Add("steps", l)
		row = append(row, &Panel{Name: SweepRate, Plot: q})
	}
	return row
}

// l2Rounds plots the MB/s of every measured round of `lmfast l2`, per
// operation.
func l2Rounds(in *report.Input, colors palette) *Panel {
	if in.Cmd != "l2" {
		return nil
	}
	p := newPlot("L2: MB/s per measured round", "round", "MB/s")
	series := map[string]plotter.XYs{}
	var keys []string
	for _, l := range in.Lines {
		if l.Event != "round" || l.F["warmup"] == true {
			continue
		}
		v, ok := l.Num("mbps")
		round, _ := l.Num("round")
		if !ok {
			continue
		}
		k := l.Op + "\x00" + l.Run + "\x00" + strconv.Itoa(l.Proc)
		if _, seen := series[k]; !seen {
			keys = append(keys, k)
		}
		series[k] = append(series[k], plotter.XY{X: round, Y: v})
	}
	if len(keys) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, k := range keys {
		op := strings.SplitN(k, "\x00", 2)[0]
		l, pts, _ := plotter.NewLinePoints(series[k])
		styleLine(l, colors.of(op), false, vg.Points(1.5))
		pts.Color = l.Color
		p.Add(l, pts)
		if !seen[op] { // one legend entry per op, whatever the sources
			seen[op] = true
			p.Legend.Add(op, l)
		}
	}
	p.Y.Min = 0
	return &Panel{Name: L2Rounds, Plot: p}
}

// Format is an output format of Render.
type Format string

// The formats of `lmfast plot -o`, by file extension.
const (
	SVG  Format = "svg"
	PNG  Format = "png"
	HTML Format = "html"
)

// Size of a rendered chart: its width, and the height of one row.
const (
	Width     = 11 * vg.Inch
	RowHeight = 3.6 * vg.Inch
)

// Render draws c in format f.
func Render(w io.Writer, c *Chart, f Format) error {
	h := RowHeight * vg.Length(len(c.Rows))
	var canvas vg.CanvasWriterTo
	switch f {
	case SVG, HTML:
		canvas = vgsvg.New(Width, h)
	case PNG:
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(96))}
	default:
		return fmt.Errorf("unknown format %q (svg, png, html)", f)
	}
	dc := draw.New(canvas)
	pad := vg.Points(8)
	for i, row := range c.Rows {
		top := h - RowHeight*vg.Length(i)
		cell := Width / vg.Length(len(row))
		for j, p := range row {
			sub := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: cell * vg.Length(j), Y: top - RowHeight},
				Max: vg.Point{X: cell * vg.Length(j+1), Y: top},
			}}
			p.Plot.Draw(draw.Crop(sub, pad, -pad, pad, -pad))
		}
	}
	if f != HTML {
		_, err := canvas.WriteTo(w)
		return err
	}
	var svg bytes.Buffer
	if _, err := canvas.WriteTo(&svg); err != nil {
		return err
	}
	body := svg.Bytes()
	if i := bytes.Index(body, []byte("<svg")); i > 0 {
		body = body[i:] // no XML declaration inside HTML
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>lmfast plot</title>\n")
	b.WriteString("<style>body{margin:0;background:#fff}svg{max-width:100%;height:auto}</style>\n</head>\n<body>\n")
	b.Write(body)
	b.WriteString("\n</body>\n</html>\n")
	_, err := w.Write(b.Bytes())
	return err
}
