package benchreport

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// machine is the machine paragraph of a report: its "Machine:" line and
// the lines after it up to the next empty one.
func machine(md string) string {
	var out []string
	in := false
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "Machine:") {
			in = true
		}
		if in {
			if l == "" {
				break
			}
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRenderMatchesTheScript: the report of each fixture is byte for byte
// the one scripts/bench-l2.sh rendered in awk from the same JSONL (see
// testdata/README.md): a run with every setting and paired loads, one
// without a settings line, one with an early settings line, and a made-up
// one with failed runs, ties and missing cells.
func TestRenderMatchesTheScript(t *testing.T) {
	for _, name := range []string{"2026-12-03", "2026-12-02-57bf191", "2026-12-02-9443c1d", "synthetic"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "l2-"+name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(filepath.Join("testdata", "l2-"+name+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := Read(f)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Render(&got, d, Options{Date: name, Machine: machine(string(want)), Fallback: DefaultSettings}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
				for i := 0; i < len(g) && i < len(w); i++ {
					if g[i] != w[i] {
						t.Fatalf("line %d:\n got %q\nwant %q", i+1, g[i], w[i])
					}
				}
				t.Fatalf("%d lines, want %d", len(g), len(w))
			}
		})
	}
}

func read(t *testing.T, jsonl string) *Data {
	t.Helper()
	d, err := Read(strings.NewReader(jsonl))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func row(tool, engine, op, rest string) string {
	return `{"tool":"` + tool + `","engine":"` + engine + `","op":"` + op + `",` + rest + "}\n"
}

// TestMedian: an odd count gives the middle value's text as recorded, an
// even count the mean of the middle two with fixed decimals, none "n/a";
// the order is numeric (9.5 before 10), equal numbers by their text.
func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		v        []string
		decimals int
		want     string
	}{
		{[]string{"10", "9.5", "1628.00"}, 2, "10"},
		{[]string{"1628.00", "3", "2000"}, 2, "1628.00"},
		{[]string{"1", "2"}, 2, "1.50"},
		{[]string{"0.9", "1.0005", "0.8", "1.2"}, 3, "0.950"},
		{[]string{"1e+06", "2", "3"}, 2, "3"},
		{nil, 2, "n/a"},
	} {
		if got := median(tc.v, tc.decimals); got != tc.want {
			t.Errorf("median(%q, %d) = %q, want %q", tc.v, tc.decimals, got, tc.want)
		}
	}
}

// TestRatioAndVerdict: a ratio needs both values and a denominator above
// 0; a verdict needs a number.
func TestRatioAndVerdict(t *testing.T) {
	for _, tc := range [][3]string{{"3", "2", "1.500"}, {"", "2", ""}, {"3", "", ""}, {"3", "0.00", ""}, {"1", "3", "0.333"}} {
		if got := ratio(tc[0], tc[1]); got != tc[2] {
			t.Errorf("ratio(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
	for _, tc := range []struct {
		v      string
		target float64
		want   string
	}{{"0.95", 0.95, "yes"}, {"0.949", 0.95, "**no**"}, {"n/a", 0.95, "n/a"}, {"", 10, "n/a"}, {"312000", 300000, "yes"}} {
		if got := verdict(tc.v, tc.target); got != tc.want {
			t.Errorf("verdict(%q, %v) = %q, want %q", tc.v, tc.target, got, tc.want)
		}
	}
}

// TestBestEngine: the fio engine with the highest median at the point; a
// load's median is over both its loads; a tie goes to the name that sorts
// last (the script's sort -g on "median engine" lines); failed runs count
// for nothing; no runs, no engine.
func TestBestEngine(t *testing.T) {
	p := `"payload_kb":256,"qd":8,"direct":1,`
	d := read(t, row("fio", "psync", "load", p+`"rep":1,"value":100`)+
		row("fio", "psync", "load2", p+`"rep":1,"value":400`)+ // psync: median of 100, 400 = 250
		row("fio", "io_uring", "load", p+`"rep":1,"value":200`)+
		row("fio", "io_uring", "load2", p+`"rep":1,"value":210`)+ // 205
		row("fio", "libaio", "load", p+`"rep":1,"value":null`)+
		row("fio", "psync", "store", p+`"rep":1,"value":50`)+
		row("fio", "io_uring", "store", p+`"rep":1,"value":50`)+
		row("lmfast", "psync", "store", p+`"rep":1,"value":999`))
	at := Point{256, 8, 1}
	if e := d.BestEngine("load", at); e != "psync" {
		t.Errorf("best for loads %q, want psync (load and load2)", e)
	}
	if e := d.BestEngine("store", at); e != "psync" {
		t.Errorf("best for stores %q, want psync (a tie: the name that sorts last)", e)
	}
	if e := d.BestEngine("load", Point{1024, 8, 1}); e != "" {
		t.Errorf("best where nothing ran %q, want none", e)
	}
}

// TestFailedRunsAreListed: a failed run (null) is left out of its cell's
// median and ratio and named under its table; a table without one says
// none.
func TestFailedRunsAreListed(t *testing.T) {
	p := `"payload_kb":256,"qd":8,"direct":1,`
	d := read(t, `{"settings":{"reps":2,"mib":1024}}`+"\n"+
		row("lmfast", "psync", "store", p+`"rep":1,"value":null`)+
		row("lmfast", "psync", "store", p+`"rep":2,"value":90`)+
		row("fio", "psync", "store", p+`"rep":1,"value":100`)+
		row("fio", "psync", "store", p+`"rep":2,"value":100`))
	var b bytes.Buffer
	if err := Render(&b, d, Options{Date: "t", Machine: "Machine: m", Fallback: DefaultSettings}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| store | 256 KiB | 8 | 1 | 90 | — | 100.00 | n/a | n/a | psync | 0.900 | — | **no** |\n",
		"Failed runs, left out: store 256 KiB Q8 direct=1 lmfast psync: 1.\n",
		"Failed runs, left out: none.\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestSettings: a setting is the number after the key's last occurrence
// in the settings line; a missing key or a JSONL without that line gives
// "", and the fallbacks fill in.
func TestSettings(t *testing.T) {
	d := read(t, `{"settings":{"hugepages":1,"idle_s":2.5,"pairs":true}}`+"\n")
	if !d.HasSettings() || d.Setting("idle_s") != "2.5" || d.Setting("hugepages") != "1" || d.Setting("pairs") != "" || d.Setting("reps") != "" {
		t.Fatalf("settings: idle_s %q hugepages %q pairs %q reps %q", d.Setting("idle_s"), d.Setting("hugepages"), d.Setting("pairs"), d.Setting("reps"))
	}
	if d := read(t, row("fio", "psync", "store", `"payload_kb":256,"qd":8,"direct":1,"rep":1,"value":1`)); d.HasSettings() || len(d.Rows) != 1 {
		t.Fatalf("a JSONL without settings: %v, %d rows", d.HasSettings(), len(d.Rows))
	}
}

// TestBackedMemoryIsInTheMethod: a run that wrote over the free memory
// first says so, with its MiB and seconds; a run without the setting does
// not.
func TestBackedMemoryIsInTheMethod(t *testing.T) {
	render := func(settings string) string {
		d := read(t, settings+"\n"+row("lmfast", "psync", "store", `"payload_kb":256,"qd":8,"direct":1,"rep":1,"value":100`))
		var b bytes.Buffer
		if err := Render(&b, d, Options{Date: "x", Machine: "Machine: m", Fallback: DefaultSettings}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	got := render(`{"settings":{"memory_kept":1,"memory_backed_mib":21760,"memory_backed_s":18.9,"reps":1}}`)
	if !strings.Contains(got, "written over once (21760 MiB in 18.9 s)") {
		t.Fatalf("no backed-memory sentence in:\n%s", got)
	}
	if got := render(`{"settings":{"memory_kept":1,"reps":1}}`); strings.Contains(got, "written over") {
		t.Fatalf("a run without the setting got the sentence:\n%s", got)
	}
}
