package compare

import (
	"fmt"
	"io"
	"strings"

	"github.com/lmfast/lmfast/report"
)

// Set is one side of a comparison: the measured intervals of one or more
// runs, read from their JSONL files.
type Set struct {
	Name     string   // "A" or "B"
	Files    []string // the files read
	Cmd      string   // the command that wrote them
	Runs     []string // the run labels, in order of appearance
	Configs  []*report.Line
	Ops      []string              // the operations, in order of appearance
	Interval map[string][]Interval // per operation, every run's intervals
	// Enqueue names the operations whose latency is the local enqueue
	// time of a PUSH (their summary lines' latency_kind): not the
	// controller's, so not compared.
	Enqueue  map[string]bool
	Problems []report.Problem // lines that could not be read (skipped)
	Warnings []string         // from merging each run's processes
}

// Interval is one wall-time interval of one run and operation, its
// processes merged (report.ByInterval).
type Interval struct {
	Run      string  // the run label
	T        float64 // seconds from the run's first interval's start
	Width    float64 // the interval's nominal length, seconds
	Covered  float64 // the seconds its lines cover: less for a run's last, short interval
	Requests int64
	Rate     float64 // requests/s, summed over the run's processes
	// Hists holds the merged latency histogram of each kind the lines
	// carried (report.HistKinds' fields), as its recorded buckets only (a
	// whole HDR histogram is 256 KiB; an interval's holds a few hundred
	// values); a kind some line had only as a summary is absent.
	Hists map[string]Hist
}

// Load reads one side's files ("-" is stdin) with report.Read and merges
// each run's processes interval by interval with report.Merge. A run is
// the set of sources sharing a run label (`lmfast controller
// --run-label`; by default each invocation is its own run): the processes
// of one run ran side by side, so their rates add up, while separate runs
// of a set are repeats whose intervals are samples of their own. Interval
// lines marked "warmup": true are left out (the engine writes none during
// --warmup). Files that cannot be read, hold no lmfast lines or no
// interval lines, or hold a sweep's steps are an error.
func Load(name string, files []string, stdin io.Reader) (*Set, error) {
	in, err := report.Read(files, stdin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	list := strings.Join(files, ", ")
	if len(in.Lines) == 0 {
		return nil, fmt.Errorf("%s: no lmfast JSONL lines in %s", name, list)
	}
	s := &Set{Name: name, Files: files, Cmd: in.Cmd, Interval: map[string][]Interval{}, Enqueue: map[string]bool{}, Problems: in.Problems}
	label := func(l *report.Line) string {
		if c := in.Configs[l.Run]; c != nil && c.Str("run_label") != "" {
			return c.Str("run_label")
		}
		return l.Run
	}
	byRun := map[string]*report.Input{}
	intervals := 0
	for _, l := range in.Lines {
		if l.Event == "summary" && l.Str("latency_kind") == "enqueue" {
			s.Enqueue[l.Op] = true
		}
	}
	for _, l := range in.Lines {
		if l.Event == "interval" && s.Enqueue[l.Op] {
			l = withoutHists(l) // not compared: spare decoding them
		}
		if l.Event == "interval" {
			if _, sweep := l.F["step"]; sweep {
				return nil, fmt.Errorf("%s: %s:%d is a --sweep step's interval: compare compares runs, not sweeps", name, l.File, l.N)
			}
			if l.F["warmup"] == true {
				continue
			}
			intervals++
		}
		lb := label(l)
		sub := byRun[lb]
		if sub == nil {
			sub = &report.Input{Cmd: in.Cmd, Configs: map[string]*report.Line{}, Events: map[string]int{}}
			byRun[lb] = sub
			s.Runs = append(s.Runs, lb)
		}
		if !contains(sub.Files, l.File) {
			sub.Files = append(sub.Files, l.File)
		}
		sub.Lines = append(sub.Lines, l)
		sub.Events[l.Event]++
		if l.Event == "config" {
			sub.Configs[l.Run] = l
			s.Configs = append(s.Configs, l)
		}
	}
	if intervals == 0 {
		return nil, fmt.Errorf("%s: no interval lines in %s (compare reads the interval lines of `lmfast controller` runs)", name, list)
	}
	for _, run := range s.Runs {
		sub := byRun[run]
		if sub.Events["interval"] == 0 {
			continue
		}
		rep, err := report.Merge(sub, report.ByInterval, report.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: run %s: %v", name, run, err)
		}
		for _, w := range rep.Warnings {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: run %s: %s", name, run, w))
		}
		for _, r := range rep.Rows {
			iv := Interval{Run: run, T: r.T, Width: r.Width, Covered: r.Covered, Requests: r.Counts["requests"],
				Rate: r.Rates["rps"], Hists: map[string]Hist{}}
			for field, h := range r.Hists {
				if !r.Unmerged[field] {
					iv.Hists[field] = HistOf(h)
				}
			}
			if _, ok := s.Interval[r.Op]; !ok {
				s.Ops = append(s.Ops, r.Op)
			}
			s.Interval[r.Op] = append(s.Interval[r.Op], iv)
		}
	}
	return s, nil
}

// Count is how many intervals the set has (of its first operation's:
// every operation of a run has one line per interval).
func (s *Set) Count() int {
	n := 0
	for _, ivs := range s.Interval {
		n = max(n, len(ivs))
	}
	return n
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// withoutHists is a copy of l without its histograms and their summaries.
func withoutHists(l *report.Line) *report.Line {
	c := *l
	c.F = make(map[string]any, len(l.F))
	for k, v := range l.F {
		c.F[k] = v
	}
	for _, k := range report.HistKinds {
		delete(c.F, k.Field)
		delete(c.F, k.Summary)
	}
	return &c
}
