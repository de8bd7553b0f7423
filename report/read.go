package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Schema is the JSONL schema this package reads (stream.Schema).
const Schema = "lmfast.v1"

// Line is one JSON line of an lmfast stream.
type Line struct {
	File  string    // the file it came from ("-" for stdin)
	N     int       // its 1-based line number
	Time  time.Time // the line's "time"
	Event string
	Run   string
	Proc  int
	Cmd   string
	Op    string         // "op", or "" when the line has none
	F     map[string]any // every field of the line, numbers as float64
}

// Num returns the numeric field name and whether it is present.
func (l *Line) Num(name string) (float64, bool) {
	v, ok := l.F[name].(float64)
	return v, ok
}

// Str returns the string field name, or "".
func (l *Line) Str(name string) string {
	s, _ := l.F[name].(string)
	return s
}

// Problem is a line that could not be used: truncated, not JSON, or not an
// lmfast line.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason) }

// Input is everything read from a set of files of one command.
type Input struct {
	Cmd      string
	Files    []string
	Lines    []*Line          // every usable line but raw samples, in file order
	Configs  map[string]*Line // each run's config line
	Events   map[string]int   // lines per event kind, samples included
	Samples  int64            // raw "sample" lines (counted, not kept)
	Problems []Problem
}

// MixedError reports files that must not be merged: different schemas or
// different commands, or one run's process read twice.
type MixedError struct{ Msg string }

func (e *MixedError) Error() string { return e.Msg }

// Read parses the named files ("-" is stdin) into one Input. Lines that
// cannot be used are recorded in Problems and skipped; files of different
// schemas or commands, or a (run, proc) found in two files, are a
// *MixedError; a file that cannot be opened is an error.
func Read(files []string, stdin io.Reader) (*Input, error) {
	in := &Input{Files: files, Configs: map[string]*Line{}, Events: map[string]int{}}
	r := &reader{in: in, seen: map[source]string{}, seenIdx: map[source]int{}}
	for i, name := range files {
		r.idx = i
		if name == "-" {
			if err := r.file(name, stdin); err != nil {
				return nil, err
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		err = r.file(name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}

// source is one engine group of one invocation.
type source struct {
	run  string
	proc int
}

type reader struct {
	in       *Input
	seen     map[source]string // which file each source came from
	seenIdx  map[source]int    // and its position in the file list
	idx      int               // the position of the file being read
	schema   string
	schemaAt string
	cmdAt    string
}

var samplePrefix = []byte(`"event":"sample"`)

func (r *reader) file(name string, src io.Reader) error {
	br := bufio.NewReaderSize(src, 1<<20)
	fileSources := map[source]bool{}
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		complete := len(b) > 0 && b[len(b)-1] == '\n'
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		// Raw samples are many and not needed for a merge: count them
		// without building a map.
		if i := bytes.Index(b, samplePrefix); i >= 0 && i < 120 {
			if json.Valid(b) {
				r.in.Samples++
				r.in.Events["sample"]++
				continue
			}
		}
		l, why := parse(b)
		if l == nil {
			if !complete && err != nil {
				why = "truncated line (no newline at the end of the file)"
			}
			r.in.Problems = append(r.in.Problems, Problem{File: name, Line: n, Reason: why})
			continue
		}
		l.File, l.N = name, n
		if err := r.check(l); err != nil {
			return err
		}
		src := source{l.Run, l.Proc}
		if l.Proc >= 0 && !fileSources[src] {
			if other, dup := r.seen[src]; dup && r.seenIdx[src] != r.idx {
				return &MixedError{fmt.Sprintf("%s repeats run %s proc %d of %s (the same run read twice?)", name, l.Run, l.Proc, other)}
			}
			r.seen[src], r.seenIdx[src] = name, r.idx
			fileSources[src] = true
		}
		r.in.Events[l.Event]++
		if l.Event == "config" {
			r.in.Configs[l.Run] = l
		}
		r.in.Lines = append(r.in.Lines, l)
	}
}

// check refuses a line of another schema or command than those seen first.
func (r *reader) check(l *Line) error {
	if s := l.Str("schema"); s != "" {
		if r.schema == "" {
			r.schema, r.schemaAt = s, fmt.Sprintf("%s:%d", l.File, l.N)
		} else if s != r.schema {
			return &MixedError{fmt.Sprintf("%s:%d has schema %q but %s has %q: files of different schemas cannot be merged", l.File, l.N, s, r.schemaAt, r.schema)}
		}
		if s != Schema {
			return &MixedError{fmt.Sprintf("%s:%d has schema %q; this lmfast reads %q", l.File, l.N, s, Schema)}
		}
	}
	if r.in.Cmd == "" {
		r.in.Cmd, r.cmdAt = l.Cmd, fmt.Sprintf("%s:%d", l.File, l.N)
	} else if l.Cmd != r.in.Cmd {
		return &MixedError{fmt.Sprintf("%s:%d is from `lmfast %s` but %s is from `lmfast %s`: report one command at a time", l.File, l.N, l.Cmd, r.cmdAt, r.in.Cmd)}
	}
	return nil
}

// parse decodes one line; on failure it returns nil and why.
func parse(b []byte) (*Line, string) {
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		var obj any
		if json.Unmarshal(b, &obj) == nil {
			return nil, "foreign line: JSON but not an object"
		}
		return nil, fmt.Sprintf("not JSON (%.60q)", b)
	}
	l := &Line{F: f}
	l.Event, _ = f["event"].(string)
	l.Run, _ = f["run"].(string)
	l.Cmd, _ = f["cmd"].(string)
	ts, _ := f["time"].(string)
	proc, okProc := f["proc"].(float64)
	if l.Event == "" || l.Run == "" || l.Cmd == "" || ts == "" || !okProc {
		return nil, "foreign line: JSON without lmfast's time, event, run, proc and cmd"
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, fmt.Sprintf("foreign line: time %q is not RFC 3339", ts)
	}
	l.Time, l.Proc = t, int(proc)
	l.Op, _ = f["op"].(string)
	return l, ""
}

// EventKinds returns the event kinds read, sorted.
func (in *Input) EventKinds() []string {
	ks := make([]string, 0, len(in.Events))
	for k := range in.Events {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
