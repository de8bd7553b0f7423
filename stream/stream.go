// Package stream writes lmfast's results as JSON lines: one self-contained
// JSON object per line, written whole, so that jq, pandas and lmfast's own
// report tools can read a run while it is still being written and after it
// was interrupted.
//
// Every line carries the same four leading fields:
//
//	time   RFC 3339 UTC timestamp with nanoseconds, when the line was made
//	event  what the line is: "config", "interval", "summary", "error", "sample", ...
//	run    the run id, shared by every line of one invocation
//	proc   the engine group (process) number, 0 for single-group runs
//
// The "config" event of each run also carries "schema": Schema.
package stream

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Schema names the version of the JSONL schema; it is written on every
// "config" event so readers can refuse streams they do not understand.
const Schema = "lmfast.v1"

// sink serialises whole lines onto one io.Writer.
type sink struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// Writer emits events for one run. It is safe for concurrent use: each event
// reaches the underlying writer in a single Write call, so lines never
// interleave.
type Writer struct {
	sink *sink
	log  zerolog.Logger
	cmd  string
	run  string
	proc int
	now  func() time.Time
}

// New returns a Writer for command cmd (e.g. "controller") and run id run
// writing to w. Use NewRunID for a fresh id.
func New(w io.Writer, cmd, run string) *Writer {
	s := &sink{w: w}
	return &Writer{sink: s, log: zerolog.New(s), cmd: cmd, run: run, now: time.Now}
}

// ForProc returns a Writer sharing w's destination whose lines carry
// proc = p.
func (w *Writer) ForProc(p int) *Writer {
	c := *w
	c.proc = p
	return &c
}

// Run returns the run id.
func (w *Writer) Run() string { return w.run }

// Proc returns the proc number written on every line.
func (w *Writer) Proc() int { return w.proc }

// Event starts a line of the given event; add fields and call Send (or Msg)
// on the result. The leading fields time, event, run, proc and cmd are set.
func (w *Writer) Event(name string) *zerolog.Event {
	return w.log.Log().
		Str("time", w.now().UTC().Format(time.RFC3339Nano)).
		Str("event", name).
		Str("run", w.run).
		Int("proc", w.proc).
		Str("cmd", w.cmd)
}

// WriteLines writes pre-rendered, newline-terminated JSON lines in one call.
// It is for high-volume producers (raw samples) that render their own lines
// with AppendPrefix and batch them.
func (w *Writer) WriteLines(p []byte) error {
	_, err := w.sink.Write(p)
	return err
}

// AppendPrefix appends the opening of a line for event name at time t —
// `{"time":"...","event":"...","run":"...","proc":N,"cmd":"..."` without the
// closing brace — so callers can append their own fields and `}\n`.
func (w *Writer) AppendPrefix(dst []byte, name string, t time.Time) []byte {
	dst = append(dst, `{"time":"`...)
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","event":"`...)
	dst = append(dst, name...)
	dst = append(dst, `","run":"`...)
	dst = append(dst, w.run...)
	dst = append(dst, `","proc":`...)
	dst = appendInt(dst, w.proc)
	dst = append(dst, `,"cmd":"`...)
	dst = append(dst, w.cmd...)
	dst = append(dst, '"')
	return dst
}

// Err reports the first write error seen, if any (a full disk, a closed
// pipe). Callers check it at the end of a run so that lost output is never
// silent.
func (w *Writer) Err() error {
	w.sink.mu.Lock()
	defer w.sink.mu.Unlock()
	return w.sink.err
}

// NewRunID returns a run id that sorts by start time and is unique across
// machines: UTC start time to the second, a dash, 6 random hex digits.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func appendInt(dst []byte, v int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// ParseLines parses a JSONL stream written by a Writer into one map per
// line, failing on the first line that is not a JSON object. Tests and
// report tools use it to read runs back.
func ParseLines(data []byte) ([]map[string]any, error) {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return out, fmt.Errorf("line %d is not a JSON object (%v): %.200q", n, err, sc.Text())
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
