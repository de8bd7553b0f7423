package flame

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// Layout of the SVG, as flamegraph.pl's defaults (--width 1200).
const (
	width       = 1200.0
	frameHeight = 16.0
	fontSize    = 12.0
	fontWidth   = 0.59 // average glyph width / font size
	xPad        = 10.0
	topPad      = 3*fontSize + 10 // title and subtitle
	bottomPad   = 2*fontSize + 10
	minWidth    = 0.1 // px: narrower frames (and their callees) are left out
)

// node is one frame of the merged call tree.
type node struct {
	name     string
	value    int64
	children map[string]*node
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c := n.children[name]
	if c == nil {
		c = &node{name: name}
		n.children[name] = c
	}
	return c
}

// sampleIndex picks the value to draw: the CPU time if the profile has
// it, else its last sample type.
func sampleIndex(p *profile.Profile) int {
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			return i
		}
	}
	return len(p.SampleType) - 1
}

// tree merges every sample's stack, root first, into a call tree; inlined
// functions are frames of their own (a location's last line is the
// caller).
func tree(p *profile.Profile, idx int) *node {
	root := &node{name: "all"}
	for _, s := range p.Sample {
		if idx < 0 || idx >= len(s.Value) || s.Value[idx] <= 0 {
			continue
		}
		v := s.Value[idx]
		root.value += v
		n := root
		for li := len(s.Location) - 1; li >= 0; li-- {
			loc := s.Location[li]
			if len(loc.Line) == 0 {
				n = n.child(fmt.Sprintf("0x%x", loc.Address))
				n.value += v
				continue
			}
			for ln := len(loc.Line) - 1; ln >= 0; ln-- {
				name := "?"
				if f := loc.Line[ln].Function; f != nil {
					name = f.Name
				}
				n = n.child(name)
				n.value += v
			}
		}
	}
	return root
}

// Samples is how many samples p holds: the sum of its "samples" count
// (a pprof sample is one distinct stack, with how often it was seen),
// else the number of stacks.
func Samples(p *profile.Profile) int64 {
	for i, st := range p.SampleType {
		if st.Type == "samples" {
			n := int64(0)
			for _, s := range p.Sample {
				n += s.Value[i]
			}
			return n
		}
	}
	return int64(len(p.Sample))
}

func depth(n *node) int {
	d := 0
	for _, c := range n.children {
		d = max(d, depth(c))
	}
	return d + 1
}

// Render writes p as an SVG flame graph titled title. A profile without
// samples gives a graph that says so.
func Render(w io.Writer, p *profile.Profile, title string) error {
	idx := sampleIndex(p)
	root := tree(p, idx)
	unit := ""
	if idx >= 0 {
		unit = p.SampleType[idx].Unit
	}
	levels := depth(root)
	height := topPad + bottomPad + float64(levels)*frameHeight
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" standalone="no"?>`+"\n")
	fmt.Fprintf(&b, `<svg version="1.1" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" xmlns="http://www.w3.org/2000/svg">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#eeeeee"/>`+"\n", width, height)
	b.WriteString(`<text x="600" y="24" text-anchor="middle" font-family="Verdana" font-size="17">`)
	escape(&b, title)
	b.WriteString("</text>\n")
	b.WriteString(`<text x="600" y="42" text-anchor="middle" font-family="Verdana" font-size="12" fill="#555555">`)
	escape(&b, fmt.Sprintf("total %s in %d samples", amount(root.value, unit), Samples(p)))
	b.WriteString("</text>\n")
	if root.value == 0 {
		b.WriteString(`<text x="600" y="70" text-anchor="middle" font-family="Verdana" font-size="12">no samples: the recorded phase was too short to sample</text>` + "\n")
	} else {
		b.WriteString(`<g font-family="Verdana" font-size="12">` + "\n")
		scale := (width - 2*xPad) / float64(root.value)
		draw(&b, root, 0, xPad, height-bottomPad, scale, root.value, unit)
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// draw writes n at depth d (0 is the bottom row) starting at x, then its
// children left to right in name order.
func draw(b *strings.Builder, n *node, d int, x, bottom, scale float64, total int64, unit string) {
	wpx := float64(n.value) * scale
	if wpx < minWidth {
		return
	}
	y := bottom - float64(d+1)*frameHeight
	b.WriteString("<g>")
	b.WriteString("<title>")
	escape(b, fmt.Sprintf("%s (%s, %.2f%%)", n.name, amount(n.value, unit), 100*float64(n.value)/float64(total)))
	b.WriteString("</title>")
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="2" ry="2"/>`, x, y, wpx, frameHeight-1, color(n.name))
	if label := fit(n.name, wpx); label != "" {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">`, x+3, y+frameHeight-4.5)
		escape(b, label)
		b.WriteString("</text>")
	}
	b.WriteString("</g>\n")
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.children[name]
		draw(b, c, d+1, x, bottom, scale, total, unit)
		x += float64(c.value) * scale
	}
}

// fit shortens name to what a frame wpx wide shows ("" if nothing fits).
func fit(name string, wpx float64) string {
	chars := int((wpx - 6) / (fontSize * fontWidth))
	r := []rune(name)
	switch {
	case chars < 3:
		return ""
	case len(r) <= chars:
		return name
	}
	return string(r[:chars-2]) + ".."
}

// color is flamegraph.pl's "hot" palette, keyed by the name so a
// function has the same colour in every graph.
func color(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	r := 205 + int(v%50)
	g := int((v >> 8) % 230)
	bl := int((v >> 16) % 55)
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, bl)
}

// amount formats a sample value in its unit.
func amount(v int64, unit string) string {
	if unit == "nanoseconds" {
		return fmt.Sprintf("%.2f ms", float64(v)/1e6)
	}
	if unit == "" || unit == "count" {
		return fmt.Sprintf("%d samples", v)
	}
	return fmt.Sprintf("%d %s", v, unit)
}

func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}
