package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine/scrape"
)

// threeRuns are the JSONL files of three separate `lmfast controller
// --raw` processes (--process-id 0..2 of 3, one run label) run at once
// against one controller-server, and the server's own summary.
type threeRuns struct {
	dir    string // a temporary directory, removed after the tests
	files  []string
	server map[string]any
	err    error
}

var (
	threeOnce sync.Once
	three     threeRuns
)

// runThree makes the three runs once per test binary.
func runThree(t *testing.T) threeRuns {
	t.Helper()
	threeOnce.Do(func() { three = makeThree(t) })
	if three.err != nil {
		t.Fatal(three.err)
	}
	return three
}

func makeThree(t *testing.T) threeRuns {
	srv := startServerCmd(t, "controller-server", "--pull-port", "0", "--reply-port", "0", "--heartbeat-port", "0", "--http-port", "0")
	dir, err := os.MkdirTemp("", "lmfast-report-test")
	if err != nil {
		return threeRuns{err: err}
	}
	sc, err := scrape.New(fmt.Sprintf("http://127.0.0.1:%d/metrics", srv.port("http_port")), 2*time.Second)
	if err != nil {
		return threeRuns{err: err}
	}
	if _, err := sc.Baseline(context.Background()); err != nil {
		return threeRuns{err: err}
	}
	ports := fmt.Sprintf(`{"pull":%d,"reply":%d,"heartbeat":%d}`, srv.port("pull_port"), srv.port("reply_port"), srv.port("heartbeat_port"))
	var cmds []*exec.Cmd
	res := threeRuns{dir: dir}
	for k := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("p%d.jsonl", k))
		res.files = append(res.files, f)
		c := lmfastProcess("controller", "--monitor-ports", ports, "--duration", "2", "--interval", "500ms",
			"--operations", "admit:35,evict:29,heartbeat:1,p2p_lookup:35", "--num-instances", "4", "--batch-size", "20",
			"--rate", "1800", "--senders", "1", "--raw", "--no-headroom", "--warmup", "0", "--out", f,
			"--process-id", strconv.Itoa(k), "--num-processes-total", "3", "--run-label", "three")
		c.Stderr = &bytes.Buffer{}
		if err := c.Start(); err != nil {
			return threeRuns{err: err}
		}
		defer func() {
			if c.ProcessState == nil {
				c.Process.Kill()
			}
		}()
		cmds = append(cmds, c)
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			return threeRuns{err: fmt.Errorf("process %d: %v: %s", i, err, c.Stderr)}
		}
	}
	// Wait until the server has read every frame the three runs sent, then
	// stop it for its summary.
	var pushed int64
	for _, f := range res.files {
		for _, l := range readJSONL(t, f) {
			if l["event"] == "summary" && l["op"] == "all" {
				pushed += int64(l["push_frames_sent"].(float64) + l["teardown_frames_sent"].(float64))
			}
		}
	}
	if _, ok, err := sc.WaitPull(context.Background(), pushed, 10*time.Second, 20*time.Millisecond); err != nil || !ok {
		return threeRuns{err: fmt.Errorf("the server did not receive the %d frames sent (%v)", pushed, err)}
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	res.server = srv.rest(t, "summary")
	<-srv.exit
	return res
}

func reportRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"report"}, args...), strings.NewReader(""), &o, &e)
	return code, o.String(), e.String()
}

// reportJSON is the part of `lmfast report --format json` the tests read.
type reportJSON struct {
	Cmd     string `json:"cmd"`
	Sources []struct {
		Run   string `json:"run"`
		Proc  int    `json:"proc"`
		Label string `json:"run_label"`
	} `json:"sources"`
	Rows []struct {
		Op      string             `json:"op"`
		Sources int                `json:"sources"`
		Counts  map[string]int64   `json:"counts"`
		Rates   map[string]float64 `json:"rates"`
		Latency map[string]struct {
			Count int64   `json:"count"`
			P50   float64 `json:"p50"`
			P90   float64 `json:"p90"`
			P99   float64 `json:"p99"`
			P999  float64 `json:"p999"`
			Max   float64 `json:"max"`
			HDR   string  `json:"hdr"`
		} `json:"latency_us"`
	} `json:"rows"`
	Problems []struct {
		File string `json:"file"`
		Line int    `json:"line"`
	} `json:"problems"`
	Samples int64 `json:"samples"`
}

func decodeReport(t *testing.T, out string) reportJSON {
	t.Helper()
	var r reportJSON
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("report json: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatal("report json: more than one object")
	}
	return r
}

// rawPercentileWindow returns the values of the samples w ranks below and
// above the q-th percentile of sorted as HdrHistogram ranks it (the
// round(q·N)-th sample).
func rawPercentileWindow(sorted []int64, q float64, w int) (lo, hi int64) {
	rank := min(max(int(q/100*float64(len(sorted))+0.5), 1), len(sorted))
	return sorted[max(rank-1-w, 0)], sorted[min(rank-1+w, len(sorted)-1)]
}

// TestReportMergesProcessesExactly is the merge check: three
// separate lmfast processes with --raw against one controller-server; the
// report's merged histograms give the percentiles of all their raw samples
// together (within HDR's 3 significant digits), and its counts equal both
// the samples' and what the controller received.
func TestReportMergesProcessesExactly(t *testing.T) {
	r := runThree(t)
	code, out, stderr := reportRun(t, append([]string{"--format", "json"}, r.files...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep := decodeReport(t, out)
	if len(rep.Sources) != 3 {
		t.Fatalf("%d sources, want 3", len(rep.Sources))
	}
	// The raw samples, per op and latency kind, in ns.
	raw := map[string]map[string][]int64{}
	perFile := map[string]map[string]*hdrhistogram.Histogram{}
	var dropped, written int64
	for _, f := range r.files {
		for _, l := range readJSONL(t, f) {
			switch {
			case l["event"] == "sample" && l["ok"] == true:
				op := l["op"].(string)
				if raw[op] == nil {
					raw[op] = map[string][]int64{}
				}
				raw[op]["latency"] = append(raw[op]["latency"], int64(math.Round(l["service_us"].(float64)*1e3)))
				raw[op]["corrected"] = append(raw[op]["corrected"], int64(math.Round(l["latency_us"].(float64)*1e3)))
			case l["event"] == "summary" && l["op"] != "all":
				op := l["op"].(string)
				if perFile[op] == nil {
					perFile[op] = map[string]*hdrhistogram.Histogram{"latency": hdrhistogram.New(1, 3600e9, 3), "corrected": hdrhistogram.New(1, 3600e9, 3)}
				}
				for kind, field := range map[string]string{"latency": "hdr", "corrected": "hdr_corrected"} {
					h, err := hdrhistogram.Decode([]byte(l[field].(string)))
					if err != nil {
						t.Fatal(err)
					}
					perFile[op][kind].Merge(h)
				}
			case l["event"] == "summary" && l["op"] == "all":
				dropped += int64(l["samples_dropped"].(float64))
				written += int64(l["samples_written"].(float64))
			}
		}
	}
	if dropped != 0 || written == 0 || rep.Samples != written {
		t.Fatalf("samples: %d written, %d dropped, %d read by report", written, dropped, rep.Samples)
	}
	rows := map[string]int{}
	for i, row := range rep.Rows {
		rows[row.Op] = i
	}
	for _, op := range []string{"admit", "evict", "heartbeat", "p2p_lookup"} {
		row := rep.Rows[rows[op]]
		if row.Sources != 3 {
			t.Errorf("%s: %d sources", op, row.Sources)
		}
		for _, kind := range []string{"latency", "corrected"} {
			vals := raw[op][kind]
			sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
			got := row.Latency[kind]
			if got.Count != int64(len(vals)) || got.Count != row.Counts["requests"] || got.Count == 0 {
				t.Errorf("%s %s: merged count %d, raw samples %d, requests %d", op, kind, got.Count, len(vals), row.Counts["requests"])
				continue
			}
			// Each raw sample's times are wall-clock readings, its
			// histogram value a monotonic difference; time.Now reads the
			// two clocks one after the other, so a thread descheduled
			// between them moves a sample by microseconds. A percentile is
			// therefore checked against the raw samples two ranks around
			// its own, within HDR's 3 significant digits.
			for _, p := range []struct {
				q   float64
				got float64
			}{{50, got.P50}, {90, got.P90}, {99, got.P99}, {99.9, got.P999}, {100, got.Max}} {
				lo, hi := rawPercentileWindow(vals, p.q, 2)
				if gotNs := p.got * 1e3; gotNs < float64(lo)-1 || gotNs > float64(hi)*1.001+1 {
					t.Errorf("%s %s p%v: merged %.0f ns, raw samples of ranks around it %d..%d ns", op, kind, p.q, gotNs, lo, hi)
				}
			}
			// The merged histogram travels along, and it is exactly the
			// sum of the three processes' own histograms.
			h, err := hdrhistogram.Decode([]byte(got.HDR))
			if err != nil {
				t.Fatalf("%s %s: hdr %v", op, kind, err)
			}
			if sum := perFile[op][kind]; h.TotalCount() != sum.TotalCount() || fmt.Sprint(h.Distribution()) != fmt.Sprint(sum.Distribution()) {
				t.Errorf("%s %s: merged histogram differs from the sum of the files' summary histograms", op, kind)
			}
		}
	}
	// The counts equal what the controller received.
	all := rep.Rows[rows["all"]]
	srv := r.server
	num := func(k string) int64 { return int64(srv[k].(float64)) }
	if got, want := all.Counts["push_frames_sent"]+all.Counts["teardown_frames_sent"], num("pull_frames"); got != want {
		t.Errorf("PUSH frames: report %d, controller received %d", got, want)
	}
	if got := all.Counts["kv_ops_sent"]; got != num("kv_ops_applied") || num("kv_ops_dropped_unregistered") != 0 {
		t.Errorf("KV ops: report %d, controller applied %d and dropped %d", got, num("kv_ops_applied"), num("kv_ops_dropped_unregistered"))
	}
	kv := rep.Rows[rows["admit"]].Counts["messages"] + rep.Rows[rows["evict"]].Counts["messages"]
	if kv != all.Counts["kv_ops_sent"] {
		t.Errorf("admit+evict messages %d, kv_ops_sent %d", kv, all.Counts["kv_ops_sent"])
	}
	if got, want := rep.Rows[rows["p2p_lookup"]].Counts["requests"]+rep.Rows[rows["heartbeat"]].Counts["requests"]+all.Counts["registered"],
		num("reply_requests")+num("heartbeat_requests"); got != want {
		t.Errorf("requests: report %d lookups+heartbeats+registrations, controller received %d", got, want)
	}
}

// TestReportFormatsParse reads every format back with a parser of its
// kind: csv with encoding/csv, hlog with hdrhistogram-go's log reader, md
// as a table of equal rows, json with encoding/json, and checks that each
// carries the same numbers as the json.
func TestReportFormatsParse(t *testing.T) {
	r := runThree(t)
	_, out, _ := reportRun(t, append([]string{"--format", "json"}, r.files...)...)
	rep := decodeReport(t, out)
	requests := map[string]int64{}
	counts := map[string]int64{}
	for _, row := range rep.Rows {
		requests[row.Op] = row.Counts["requests"]
		for kind, l := range row.Latency {
			counts[row.Op+"/"+kind] = l.Count
		}
	}

	// csv by interval: one row per op and interval, whose requests add up
	// to the whole run's.
	code, out, stderr := reportRun(t, append([]string{"--format", "csv", "--by", "interval"}, r.files...)...)
	if code != ExitOK {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("csv: %v, %d records", err, len(recs))
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	for _, want := range []string{"t_s", "start", "op", "sources", "requests", "rps"} {
		if _, ok := col[want]; !ok {
			t.Fatalf("csv header %v lacks %s", recs[0], want)
		}
	}
	sum := map[string]int64{}
	intervals := map[string]bool{}
	for _, rec := range recs[1:] {
		var n int64
		fmt.Sscan(rec[col["requests"]], &n)
		sum[rec[col["op"]]] += n
		intervals[rec[col["t_s"]]] = true
	}
	if len(intervals) < 4 { // 2 s in 500 ms intervals
		t.Errorf("csv: %d intervals", len(intervals))
	}
	for op, n := range requests {
		if sum[op] != n {
			t.Errorf("csv: %s requests over intervals %d, whole run %d", op, sum[op], n)
		}
	}

	// hlog: every merged histogram read back by hdrhistogram-go.
	code, out, stderr = reportRun(t, append([]string{"--format", "hlog"}, r.files...)...)
	if code != ExitOK {
		t.Fatalf("hlog: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "#[StartTime: ") || !strings.Contains(out, "#[BaseTime: ") {
		t.Errorf("hlog lacks StartTime/BaseTime:\n%.300s", out)
	}
	lr := hdrhistogram.NewHistogramLogReader(strings.NewReader(out))
	read := 0
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("hlog: %v", err)
		}
		if h == nil {
			break
		}
		read++
		op, kind, _ := strings.Cut(h.Tag(), ".")
		if kind == "" {
			kind = "latency"
		}
		if want := counts[op+"/"+kind]; h.TotalCount() != want || want == 0 {
			t.Errorf("hlog %s: %d values, json %d", h.Tag(), h.TotalCount(), want)
		}
	}
	if read != len(counts) {
		t.Errorf("hlog: %d histograms, json has %d", read, len(counts))
	}

	// md: a table whose rows all have the header's cells.
	code, out, stderr = reportRun(t, append([]string{"--format", "md"}, r.files...)...)
	if code != ExitOK {
		t.Fatalf("md: exit %d: %s", code, stderr)
	}
	var table []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "|") {
			table = append(table, l)
		}
	}
	if len(table) != 2+len(rep.Rows) {
		t.Fatalf("md: %d table lines for %d rows:\n%s", len(table), len(rep.Rows), out)
	}
	cells := strings.Count(table[0], "|")
	for i, l := range table {
		if strings.Count(l, "|") != cells || !strings.HasSuffix(l, "|") {
			t.Errorf("md line %d has %d separators, header %d: %s", i, strings.Count(l, "|"), cells, l)
		}
	}
	if strings.Trim(strings.NewReplacer("-", "", ":", "", "|", "").Replace(table[1]), " ") != "" {
		t.Errorf("md: second line is not a separator: %s", table[1])
	}

	// text: LMCache's aggregated layout with the percentiles it lacks.
	code, out, _ = reportRun(t, r.files...)
	if code != ExitOK || !strings.Contains(out, "AGGREGATED RESULTS (3 processes)") ||
		!strings.Contains(out, fmt.Sprintf("Total Requests: %d", requests["all"])) || !strings.Contains(out, "P99.9: ") {
		t.Errorf("text: exit %d:\n%s", code, out)
	}
}

// TestReportBadLines: foreign, broken and truncated lines are counted and
// named by file and line while everything else is still merged; --strict
// makes them exit 2.
func TestReportBadLines(t *testing.T) {
	r := runThree(t)
	good, err := os.ReadFile(r.files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(good, []byte("\n"))
	lastSummary := good[bytes.LastIndex(good[:len(good)-1], []byte("\n"))+1:]
	bad := append(append([]byte{}, good...), "lmfast: a stderr line in the stream\n"+`{"foo":1}`+"\n"...)
	bad = append(bad, lastSummary[:len(lastSummary)/2]...) // cut off mid-line, no newline
	path := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ := reportRun(t, "--format", "json", r.files[0])
	want := decodeReport(t, out)
	code, out, stderr := reportRun(t, "--format", "json", path)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got := decodeReport(t, out)
	if len(got.Problems) != 3 {
		t.Fatalf("problems %v, want 3", got.Problems)
	}
	for i, p := range got.Problems {
		if p.File != path || p.Line != lines+1+i {
			t.Errorf("problem %d at %s:%d, want %s:%d", i, p.File, p.Line, path, lines+1+i)
		}
		if want := fmt.Sprintf("%s:%d: ", path, lines+1+i); !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %s: %s", want, stderr)
		}
	}
	if !strings.Contains(stderr, "truncated") {
		t.Errorf("stderr does not call the last line truncated: %s", stderr)
	}
	for i := range want.Rows {
		if fmt.Sprint(got.Rows[i].Counts) != fmt.Sprint(want.Rows[i].Counts) {
			t.Errorf("%s: counts %v with bad lines, %v without", want.Rows[i].Op, got.Rows[i].Counts, want.Rows[i].Counts)
		}
	}
	code, _, stderr = reportRun(t, "--strict", path)
	if code != ExitBadInput || !strings.Contains(stderr, "--strict: 3 line(s)") || strings.Count(stderr, "\n") > 5 {
		t.Errorf("--strict: exit %d, stderr %s", code, stderr)
	}
}

// TestReportRefusesMixedInput: files of another command or schema, or the
// same run twice, are a one-line error and exit 2.
func TestReportRefusesMixedInput(t *testing.T) {
	r := runThree(t)
	good, err := os.ReadFile(r.files[1])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	otherCmd := write("l2.jsonl", bytes.ReplaceAll(good, []byte(`"cmd":"controller"`), []byte(`"cmd":"l2"`)))
	otherSchema := write("v2.jsonl", bytes.Replace(good, []byte(`"schema":"lmfast.v1"`), []byte(`"schema":"lmfast.v2"`), 1))
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{r.files[0], otherCmd}, "from `lmfast l2`"},
		{[]string{r.files[0], otherSchema}, `schema "lmfast.v2"`},
		{[]string{r.files[0], r.files[0]}, "read twice"},
		{[]string{filepath.Join(dir, "missing.jsonl")}, "no such file"},
	} {
		code, _, stderr := reportRun(t, c.files...)
		if code != ExitBadInput || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "lmfast: ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", c.files, code, stderr, c.want)
		}
	}
}

// TestPlotCommand: `lmfast plot` draws the three real runs into a PNG
// that decodes; a file with nothing to draw, or an unknown extension, is
// exit 2 with one line.
func TestPlotCommand(t *testing.T) {
	r := runThree(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "runs.png")
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"plot", "-o", out}, r.files...), strings.NewReader(""), &stdout, &stderr)
	if code != ExitOK || !strings.Contains(stderr.String(), "throughput") || !strings.Contains(stderr.String(), "percentile spectrum") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	configOnly := filepath.Join(dir, "config.jsonl")
	good, _ := os.ReadFile(r.files[0])
	os.WriteFile(configOnly, good[:bytes.IndexByte(good, '\n')+1], 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plot", "-o", filepath.Join(dir, "x.svg"), configOnly}, "no plottable data"},
		{[]string{"plot", "-o", filepath.Join(dir, "x.gif"), r.files[0]}, "must be .svg, .png or .html"},
	} {
		stderr.Reset()
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		if code != ExitBadInput || !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr.String())
		}
	}
}
