package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// twoHosts is the JSONL of two processes on hosts a and b, the second
// starting offset after the first, each writing three 1 s interval lines;
// maxErrUs is each host's clock_maxerror_us (nil: unsynchronised).
func twoHosts(t *testing.T, offset time.Duration, maxErrUs [2]any, labels [2]string, procs [2]int) map[string]string {
	t.Helper()
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	files := map[string]string{}
	for p := range 2 {
		s := &stream{cmd: "controller", run: fmt.Sprintf("run%d", p)}
		start := t0.Add(time.Duration(p) * offset)
		label := labels[p]
		if label == "" {
			label = s.run // lmfast's default label
		}
		s.line(start, "config", procs[p], map[string]any{"schema": Schema, "interval_s": 1.0, "host": fmt.Sprintf("host%c", 'a'+p),
			"run_label": label, "clock_maxerror_us": maxErrUs[p]})
		for i := 1; i <= 3; i++ {
			_, enc := hist(t, 1000, 2000, 3000)
			s.line(start.Add(time.Duration(i)*time.Second), "interval", procs[p], map[string]any{
				"op": "admit", "t_s": float64(i), "interval_s": 1.0, "requests": 3, "rps": 3.0, "hdr": enc})
		}
		files[fmt.Sprintf("p%d.jsonl", p)] = s.b.String()
	}
	return files
}

// TestAlignmentAgainstClockError: a start spread within a tenth of the
// interval is still called out when it exceeds what the hosts' clocks can
// differ by (the sum of their kernels' maxerror), not when the clocks
// explain it; an unsynchronised host is named.
func TestAlignmentAgainstClockError(t *testing.T) {
	for _, c := range []struct {
		name   string
		offset time.Duration
		maxErr [2]any
		want   []string // substrings, one per expected warning
	}{
		{"spread beyond synchronised clocks", 30 * time.Millisecond, [2]any{2000.0, 2000.0},
			[]string{"start up to 30.0 ms apart, more than their hosts' clocks can differ (4.0 ms by the kernels' maxerror)"}},
		{"spread the clocks explain", 30 * time.Millisecond, [2]any{20000.0, 20000.0}, nil},
		{"spread within scheduling noise", 5 * time.Millisecond, [2]any{1000.0, 1000.0}, nil},
		{"unsynchronised host", 30 * time.Millisecond, [2]any{2000.0, nil}, []string{"clock of host hostb was not synchronised"}},
		{"beyond a tenth of the interval", 300 * time.Millisecond, [2]any{2000.0, 2000.0},
			[]string{"start up to 300 ms apart (processes started at different times, or their clocks differ), more than their hosts' clocks can differ"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Merge(readStrings(t, twoHosts(t, c.offset, c.maxErr, [2]string{"job", "job"}, [2]int{0, 1})), ByInterval, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Warnings) != len(c.want) {
				t.Fatalf("warnings %q, want %d", rep.Warnings, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(rep.Warnings[i], w) {
					t.Errorf("warning %q lacks %q", rep.Warnings[i], w)
				}
			}
		})
	}
}

// TestRunLabels: sources of one shared label are named by it; two
// invocations of one label writing the same proc (the same --process-id
// twice) and files of two labels are warned about; lmfast's default
// label, the run id, ties nothing and warns of nothing.
func TestRunLabels(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels [2]string
		procs  [2]int
		note   string
		want   string
	}{
		{"one label", [2]string{"job-1", "job-1"}, [2]int{0, 1}, ", run label job-1", ""},
		{"default labels", [2]string{"", ""}, [2]int{0, 0}, "", ""},
		{"one label, one proc twice", [2]string{"job-1", "job-1"}, [2]int{1, 1}, ", run label job-1", "runs run0 and run1 of run label job-1 both wrote proc 1"},
		{"two labels", [2]string{"job-1", "job-2"}, [2]int{0, 1}, ", run labels job-1, job-2", "the files are of 2 run labels (job-1, job-2)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Merge(readStrings(t, twoHosts(t, 0, [2]any{1000.0, 1000.0}, c.labels, c.procs)), ByOp, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := labelNote(rep); got != c.note {
				t.Errorf("label note %q, want %q", got, c.note)
			}
			var text bytes.Buffer
			if err := Write(&text, rep, Text); err != nil {
				t.Fatal(err)
			}
			if want := "\n  Run label: " + strings.TrimPrefix(strings.TrimPrefix(c.note, ", run labels "), ", run label ") + "\n"; (c.note != "") != strings.Contains(text.String(), want) {
				t.Errorf("text report: want %q: %v\n%s", want, c.note != "", text.String())
			}
			switch {
			case c.want == "" && len(rep.Warnings) > 0:
				t.Errorf("warnings %q, want none", rep.Warnings)
			case c.want != "" && (len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], c.want)):
				t.Errorf("warnings %q, want one with %q", rep.Warnings, c.want)
			}
			for i, s := range rep.Sources {
				want := c.labels[i]
				if want == "" {
					want = s.Run
				}
				if s.Label != want {
					t.Errorf("source %+v: label %q, want %q", s, s.Label, want)
				}
			}
		})
	}
}

// TestIntervalsAlignDespiteLateLines: processes started together whose
// interval lines were written late (a starved collector: one 400 ms late,
// the first line 30 ms late) align on their ticks (start + t_s), not on
// when the lines were written: no spread, no warning, each line in its
// own interval.
func TestIntervalsAlignDespiteLateLines(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	files := map[string]string{}
	for p := range 2 {
		s := &stream{cmd: "controller", run: fmt.Sprintf("run%d", p)}
		s.line(t0, "config", p, map[string]any{"schema": Schema, "interval_s": 1.0})
		for i := 1; i <= 4; i++ {
			late := time.Duration(0)
			switch {
			case p == 1 && i == 2:
				late = 400 * time.Millisecond
			case p == 0 && i == 1:
				late = 30 * time.Millisecond
			}
			s.line(t0.Add(time.Duration(i)*time.Second+late), "interval", p, map[string]any{
				"op": "admit", "t_s": float64(i), "interval_s": 1.0, "requests": 10 * i, "rps": float64(10 * i)})
		}
		files[fmt.Sprintf("p%d.jsonl", p)] = s.b.String()
	}
	rep, err := Merge(readStrings(t, files), ByInterval, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skew > 1e-9 || len(rep.Warnings) != 0 || !rep.Origin.Equal(t0) {
		t.Errorf("skew %v s, origin %v, warnings %q", rep.Skew, rep.Origin, rep.Warnings)
	}
	if len(rep.Rows) != 4 {
		t.Fatalf("%d rows, want 4 intervals", len(rep.Rows))
	}
	for i, r := range rep.Rows {
		if r.Sources != 2 || r.Counts["requests"] != int64(20*(i+1)) {
			t.Errorf("interval %d: %d sources, %d requests", i, r.Sources, r.Counts["requests"])
		}
	}
}
