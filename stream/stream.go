package stream

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"weak"

	"github.com/rs/zerolog"
)

// Schema names the version of the JSONL schema; it is written on every
// "config" event so readers can refuse streams they do not understand.
const Schema = "lmfast.v1"

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
	s := newSink(w)
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
	return w.sink.write(p)
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
// silent. After an error the Writer writes nothing more.
func (w *Writer) Err() error {
	w.sink.mu.Lock()
	defer w.sink.mu.Unlock()
	return w.sink.err
}

// Failed is closed on the first write error, so that a run can stop as
// soon as its output is lost instead of measuring for nobody.
func (w *Writer) Failed() <-chan struct{} { return w.sink.failed }

// NewRunID returns a run id that sorts by start time and is unique across
// machines: UTC start time to the second, a dash, 6 random hex digits.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
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

// Halt waits, up to wait for each Writer, until no line is being written,
// then makes every Writer drop whatever it is asked to write after. It is
// for a process about to exit at once (a second Ctrl-C): the output then
// ends with a complete line. It reports whether every Writer was reached
// within wait (one stuck writing to a pipe nobody reads is left as it is).
func Halt(wait time.Duration) bool {
	liveMu.Lock()
	sinks := make([]*sink, 0, len(live))
	for _, p := range live {
		if s := p.Value(); s != nil {
			sinks = append(sinks, s)
		}
	}
	liveMu.Unlock()
	all := true
	for _, s := range sinks {
		if !lockWithin(&s.mu, wait) {
			all = false
			continue
		}
		s.halted = true
		s.mu.Unlock()
	}
	return all
}

// sink serialises whole lines onto one io.Writer. After the first write
// error it writes nothing more: the error is kept for Err and announced on
// failed, and zerolog is told the write succeeded so that it does not print
// a complaint of its own for every line that follows.
type sink struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	failed chan struct{} // closed on the first write error
	halted bool          // Halt was called: drop every later line
}

func newSink(w io.Writer) *sink {
	s := &sink{w: w, failed: make(chan struct{})}
	track(s)
	return s
}

// Write is zerolog's writer: one call per line.
func (s *sink) Write(p []byte) (int, error) {
	_ = s.write(p)
	return len(p), nil
}

// write writes p (whole lines) in one call and returns the sink's first
// write error, now or from before.
func (s *sink) write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.halted {
		return s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
		close(s.failed)
		if n > 0 {
			rollback(s.w, n)
		}
	}
	return err
}

// rollback takes back the n bytes of a partly written line from a regular
// file (a full disk can accept part of a write), so that the file still
// ends with a complete line. Pipes and terminals cannot take bytes back;
// a pipe's reader that went away does not read them either.
func rollback(w io.Writer, n int) {
	f, ok := w.(*os.File)
	if !ok {
		return
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return
	}
	if end, err := f.Seek(0, io.SeekCurrent); err == nil && end >= int64(n) {
		_ = f.Truncate(end - int64(n))
		_, _ = f.Seek(end-int64(n), io.SeekStart)
	}
}

// live holds every sink made, weakly, so that Halt can reach them without
// keeping a finished run's sink alive.
var (
	liveMu sync.Mutex
	live   []weak.Pointer[sink]
)

func track(s *sink) {
	liveMu.Lock()
	defer liveMu.Unlock()
	kept := live[:0]
	for _, p := range live {
		if p.Value() != nil {
			kept = append(kept, p)
		}
	}
	live = append(kept, weak.Make(s))
}

// lockWithin locks mu unless that takes longer than wait.
func lockWithin(mu *sync.Mutex, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for !mu.TryLock() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
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
