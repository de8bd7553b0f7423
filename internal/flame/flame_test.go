package flame

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// testProfile is a CPU profile of 50 ms: main → a → b 30 ms, main → a →
// c 10 ms (c's location inlines "inner" into "f[<&>]"), main alone 10 ms.
func testProfile() *profile.Profile {
	fn := map[string]*profile.Function{}
	var fns []*profile.Function
	for i, name := range []string{"main", "a", "b", "f[<&>]", "inner"} {
		f := &profile.Function{ID: uint64(i + 1), Name: name}
		fn[name] = f
		fns = append(fns, f)
	}
	loc := func(id uint64, names ...string) *profile.Location { // names: innermost first
		l := &profile.Location{ID: id, Address: 0x1000 * id}
		for _, n := range names {
			l.Line = append(l.Line, profile.Line{Function: fn[n]})
		}
		return l
	}
	lMain, lA, lB, lC := loc(1, "main"), loc(2, "a"), loc(3, "b"), loc(4, "inner", "f[<&>]")
	ms := int64(1e6)
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lB, lA, lMain}, Value: []int64{3, 30 * ms}},
			{Location: []*profile.Location{lC, lA, lMain}, Value: []int64{1, 10 * ms}},
			{Location: []*profile.Location{lMain}, Value: []int64{1, 10 * ms}},
		},
		Location: []*profile.Location{lMain, lA, lB, lC},
		Function: fns,
	}
}

type frame struct {
	title   string
	x, y, w float64
}

// frames parses the SVG (failing if it is not well-formed XML) and
// returns its frames by name.
func frames(t *testing.T, svg []byte) map[string]frame {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
	}
	var doc struct {
		G struct {
			Frames []struct {
				Title string `xml:"title"`
				Rect  struct {
					X string `xml:"x,attr"`
					Y string `xml:"y,attr"`
					W string `xml:"width,attr"`
				} `xml:"rect"`
			} `xml:"g"`
		} `xml:"g"`
	}
	if err := xml.Unmarshal(svg, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]frame{}
	for _, f := range doc.G.Frames {
		name := f.Title[:strings.LastIndex(f.Title, " (")]
		x, _ := strconv.ParseFloat(f.Rect.X, 64)
		y, _ := strconv.ParseFloat(f.Rect.Y, 64)
		w, _ := strconv.ParseFloat(f.Rect.W, 64)
		out[name] = frame{title: f.Title, x: x, y: y, w: w}
	}
	return out
}

// TestRenderLaysOutTheCallTree: every frame's width is its share of the
// CPU time (the cpu sample type, not the sample count), callees stand on
// their callers, siblings are in name order, an inlined function is a
// frame above the function it was inlined into, and names are escaped.
func TestRenderLaysOutTheCallTree(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, testProfile(), "on-cpu (FSL2Adapter) <test>"); err != nil {
		t.Fatal(err)
	}
	f := frames(t, buf.Bytes())
	if len(f) != 6 {
		t.Fatalf("%d frames: %v", len(f), f)
	}
	full := width - 2*xPad
	for name, want := range map[string]float64{"all": 1, "main": 1, "a": 0.8, "b": 0.6, "f[<&>]": 0.2, "inner": 0.2} {
		if math.Abs(f[name].w-want*full) > 0.1 {
			t.Errorf("%s: width %.1f, want %.1f", name, f[name].w, want*full)
		}
	}
	if f["b"].title != "b (30.00 ms, 60.00%)" {
		t.Errorf("title %q", f["b"].title)
	}
	row := func(n string) float64 { return f[n].y }
	if !(row("all") > row("main") && row("main") > row("a") && row("a") > row("b") && row("b") == row("f[<&>]") && row("f[<&>]") > row("inner")) {
		t.Errorf("rows: %v", f)
	}
	if f["b"].x != f["a"].x || math.Abs(f["f[<&>]"].x-(f["b"].x+f["b"].w)) > 0.1 {
		t.Errorf("siblings not side by side in name order: b %+v, f %+v", f["b"], f["f[<&>]"])
	}
	if !strings.Contains(buf.String(), "&lt;test&gt;") {
		t.Error("title not escaped")
	}
}

// TestRenderWithoutSamples: an empty profile still gives a well-formed SVG
// that says there was nothing to draw.
func TestRenderWithoutSamples(t *testing.T) {
	p := testProfile()
	p.Sample = nil
	var buf bytes.Buffer
	if err := Render(&buf, p, "empty"); err != nil {
		t.Fatal(err)
	}
	if f := frames(t, buf.Bytes()); len(f) != 0 || !strings.Contains(buf.String(), "no samples") {
		t.Fatalf("frames %v:\n%s", f, buf.String())
	}
}

// TestSamplesCountsRepeats: a pprof sample is a distinct stack with how
// often it was seen; Samples adds those counts.
func TestSamplesCountsRepeats(t *testing.T) {
	if n := Samples(testProfile()); n != 5 {
		t.Fatalf("Samples = %d, want 5 (3 + 1 + 1)", n)
	}
}
