package benchreport

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Row is one run the bench recorded: a tool (lmfast or fio) and its engine,
// the operation, the point (payload, queue depth, O_DIRECT), the repetition
// (or pair) and the value: MiB/s, keys/s for lookups, seconds for the
// setup_* rows. Value is the number's text as recorded, "null" for a run
// that failed.
type Row struct {
	Tool, Engine, Op      string
	PayloadKB, QD, Direct int
	Rep                   int
	Value                 string
}

// Point is where a run measured: payload KiB, queue depth, O_DIRECT (1 or 0).
type Point struct{ KB, QD, Direct int }

// Data is a bench JSONL read back.
type Data struct {
	Rows []Row
	// settings is the first {"settings":…} line, "" if there is none.
	settings string
	// load2 and paired: some line names op load2 (fio loaded twice after
	// each store) or op pair_load (section 2's paired loads).
	load2, paired bool
}

// rowLine is the line the script's record() writes, key order fixed.
var rowLine = regexp.MustCompile(`^\{"tool":"([^"]*)","engine":"([^"]*)","op":"([^"]*)","payload_kb":([0-9]+),"qd":([0-9]+),"direct":([0-9]+),"rep":([0-9]+),"value":(.*)\}$`)

// Read parses a bench JSONL. Lines that are neither the settings line nor a
// row are ignored, as the script's greps ignore them.
func Read(r io.Reader) (*Data, error) {
	d := &Data{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if d.settings == "" && strings.HasPrefix(line, `{"settings"`) {
			d.settings = line
		}
		d.load2 = d.load2 || strings.Contains(line, `"op":"load2"`)
		d.paired = d.paired || strings.Contains(line, `"op":"pair_load"`)
		m := rowLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		row := Row{Tool: m[1], Engine: m[2], Op: m[3], Value: m[8]}
		row.PayloadKB, _ = strconv.Atoi(m[4])
		row.QD, _ = strconv.Atoi(m[5])
		row.Direct, _ = strconv.Atoi(m[6])
		row.Rep, _ = strconv.Atoi(m[7])
		d.Rows = append(d.Rows, row)
	}
	return d, sc.Err()
}

// Setting returns a key of the settings line: the digits and dots after
// its last "key": ("" when the line or the key is missing).
func (d *Data) Setting(key string) string {
	i := strings.LastIndex(d.settings, `"`+key+`":`)
	if i < 0 {
		return ""
	}
	v := d.settings[i+len(key)+3:]
	n := 0
	for n < len(v) && (v[n] >= '0' && v[n] <= '9' || v[n] == '.') {
		n++
	}
	return v[:n]
}

// HasSettings reports whether the JSONL has a settings line.
func (d *Data) HasSettings() bool { return d.settings != "" }

// sel picks rows: tool, engine, op, point and, if rep ≥ 0, the repetition.
type sel struct {
	tool, engine, op string
	p                Point
	rep              int
}

func (s sel) match(r *Row) bool {
	return r.Tool == s.tool && r.Engine == s.engine && r.Op == s.op && r.PayloadKB == s.p.KB && r.QD == s.p.QD &&
		r.Direct == s.p.Direct && (s.rep < 0 || r.Rep == s.rep)
}

func all(tool, engine, op string, p Point) sel { return sel{tool, engine, op, p, -1} }
func one(tool, engine, op string, p Point, rep int) sel {
	return sel{tool, engine, op, p, rep}
}

// numeric is the text of a recorded number the script reads as one.
var numeric = regexp.MustCompile(`^[-0-9.e+]+$`)

// values returns the values of the selected runs that did not fail, in
// file order.
func (d *Data) values(s sel) []string {
	var out []string
	for i := range d.Rows {
		if r := &d.Rows[i]; s.match(r) && numeric.MatchString(r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

// value is the value of one repetition's run, "" if it failed or is missing.
func (d *Data) value(s sel) string {
	return strings.Join(d.values(s), "\n")
}

// failures counts the selected runs that failed.
func (d *Data) failures(s sel) int {
	n := 0
	for i := range d.Rows {
		if r := &d.Rows[i]; s.match(r) && r.Value == "null" {
			n++
		}
	}
	return n
}

// fioValues are fio's values at a point, a load's with its second load's.
func (d *Data) fioValues(engine, op string, p Point) []string {
	v := d.values(all("fio", engine, op, p))
	if op == "load" {
		v = append(v, d.values(all("fio", engine, "load2", p))...)
	}
	return v
}

// fioEngines are fio's engines in the script's order.
var fioEngines = []string{"psync", "io_uring", "libaio"}

// BestEngine is the fio engine with the highest median at a point (a
// load's: over both its loads); "" if no engine has a value there. A tie
// goes to the engine whose name sorts last, as the script's sort did.
func (d *Data) BestEngine(op string, p Point) string {
	var lines []string
	for _, e := range fioEngines {
		if m := median(d.fioValues(e, op, p), 2); m != "n/a" {
			lines = append(lines, m+" "+e)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	sortGeneral(lines)
	last := lines[len(lines)-1]
	return last[strings.IndexByte(last, ' ')+1:]
}

// setups are lmfast's measured setups of op (store or load), in seconds.
func (d *Data) setups(op string) []string {
	var out []string
	for i := range d.Rows {
		r := &d.Rows[i]
		if r.Op == "setup_"+op && isUnsigned(r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

func isUnsigned(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// pairEngine is the fio engine of the paired loads at a point (the first
// such row's), "" if there are none.
func (d *Data) pairEngine(p Point) string {
	for i := range d.Rows {
		r := &d.Rows[i]
		if r.Tool == "fio" && r.Op == "pair_load" && r.PayloadKB == p.KB && r.QD == p.QD && r.Direct == p.Direct && isEngineName(r.Engine) {
			return r.Engine
		}
	}
	return ""
}

func isEngineName(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return false
		}
	}
	return true
}

// pairReps are the pairs lmfast recorded at a point, in file order.
func (d *Data) pairReps(p Point) []int {
	var out []int
	s := all("lmfast", "psync-thread", "pair_load", p)
	for i := range d.Rows {
		if r := &d.Rows[i]; s.match(r) {
			out = append(out, r.Rep)
		}
	}
	return out
}
