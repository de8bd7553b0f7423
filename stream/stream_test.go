package stream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestEventLeadingFields(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, "controller", "RUN1").ForProc(3)
	w.now = func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 5, time.UTC) }
	w.Event("config").Str("schema", Schema).Int("n", 7).Send()

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("line is not JSON: %v: %q", err, buf.String())
	}
	want := map[string]any{
		"time": "2026-11-24T10:00:00.000000005Z", "event": "config", "run": "RUN1",
		"proc": float64(3), "cmd": "controller", "schema": "lmfast.v1", "n": float64(7),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("line not newline-terminated: %q", buf.String())
	}
}

func TestAppendPrefixMatchesEvent(t *testing.T) {
	tests := []struct {
		name string
		proc int
	}{{"zero", 0}, {"positive", 12}, {"negative", -4}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
			var a, b bytes.Buffer
			wa := New(&a, "l2", "R").ForProc(tc.proc)
			wa.now = func() time.Time { return at }
			wa.Event("sample").Int("x", 1).Send()
			wb := New(&b, "l2", "R").ForProc(tc.proc)
			line := wb.AppendPrefix(nil, "sample", at)
			line = append(line, `,"x":1}`+"\n"...)
			if err := wb.WriteLines(line); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("AppendPrefix line differs:\n event: %s prefix: %s", a.String(), b.String())
			}
		})
	}
}

func TestConcurrentLinesNeverInterleave(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, "controller", NewRunID())
	var wg sync.WaitGroup
	const goroutines, each = 8, 500
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			p := w.ForProc(g)
			for i := 0; i < each; i++ {
				p.Event("interval").Int("i", i).Str("pad", strings.Repeat("x", 200)).Send()
			}
		}(g)
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d not JSON: %v", n+1, err)
		}
		n++
	}
	if n != goroutines*each {
		t.Fatalf("got %d lines, want %d", n, goroutines*each)
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, fmt.Errorf("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriteErrorIsKept(t *testing.T) {
	w := New(&failAfter{n: 1}, "l2", "R")
	w.Event("config").Send()
	if w.Err() != nil {
		t.Fatalf("unexpected early error %v", w.Err())
	}
	w.Event("summary").Send()
	if w.Err() == nil || !strings.Contains(w.Err().Error(), "disk full") {
		t.Fatalf("Err() = %v, want disk full", w.Err())
	}
}

func TestNewRunIDUniqueAndSortable(t *testing.T) {
	a, b := NewRunID(), NewRunID()
	if a == b {
		t.Fatalf("two run ids equal: %s", a)
	}
	if len(a) != len("20261124T101500Z-abcdef") {
		t.Fatalf("unexpected run id shape %q", a)
	}
}

func ExampleWriter() {
	w := New(os.Stdout, "controller", "20261124T100000Z-000000")
	w.now = func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }
	w.Event("error").Str("op", "p2p_lookup").Int("count", 2).Str("error", "timeout").Send()
	// Output:
	// {"time":"2026-11-24T10:00:00Z","event":"error","run":"20261124T100000Z-000000","proc":0,"cmd":"controller","op":"p2p_lookup","count":2,"error":"timeout"}
}

// countingWriter fails every write and counts the calls.
type countingWriter struct{ calls int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls++
	return 0, syscall.ENOSPC
}

// TestWriteErrorStopsQuietly: after the first failed write the Writer
// announces it on Failed, writes nothing more, and zerolog reports nothing
// of its own (it would print one line per event to stderr).
func TestWriteErrorStopsQuietly(t *testing.T) {
	complaints := 0
	old := zerolog.ErrorHandler
	zerolog.ErrorHandler = func(error) { complaints++ }
	defer func() { zerolog.ErrorHandler = old }()

	cw := &countingWriter{}
	w := New(cw, "controller", "R")
	select {
	case <-w.Failed():
		t.Fatal("Failed closed before any write")
	default:
	}
	for i := 0; i < 12; i++ {
		w.Event("interval").Int("i", i).Send()
	}
	if err := w.WriteLines([]byte("{}\n")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("WriteLines after the error: %v", err)
	}
	select {
	case <-w.Failed():
	default:
		t.Fatal("Failed not closed after a write error")
	}
	if cw.calls != 1 || complaints != 0 || !errors.Is(w.Err(), syscall.ENOSPC) {
		t.Fatalf("%d writes reached the writer (want 1), zerolog complained %d times, Err %v", cw.calls, complaints, w.Err())
	}
}

// TestPartialWriteRolledBack: a file that can take only part of a line
// (here RLIMIT_FSIZE; a full disk does the same) still ends with the last
// complete line.
func TestPartialWriteRolledBack(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f, "controller", "R")
	w.Event("config").Send()
	st, _ := f.Stat()
	first := st.Size()

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = uint64(first + 40) // room for 40 bytes of the next line
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	w.Event("interval").Str("pad", strings.Repeat("x", 200)).Send()
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	w.Event("summary").Send() // dropped: the stream failed

	if w.Err() == nil {
		t.Fatal("no error from a write past the file size limit")
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != first || !bytes.HasSuffix(data, []byte("}\n")) {
		t.Fatalf("file holds %d bytes (the complete first line is %d): %q", len(data), first, data)
	}
}

// gateWriter blocks every Write until release is closed, and records
// when a Write finished.
type gateWriter struct {
	entered  chan struct{}
	release  chan struct{}
	finished atomic.Bool
	buf      bytes.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	close(g.entered)
	<-g.release
	n, err := g.buf.Write(p)
	g.finished.Store(true)
	return n, err
}

// TestHaltWaitsForTheLineBeingWritten: Halt returns only once a line being
// written is complete, and nothing is written after it.
func TestHaltWaitsForTheLineBeingWritten(t *testing.T) {
	g := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
	w := New(g, "controller", "R")
	go w.Event("interval").Int("i", 1).Send()
	<-g.entered
	time.AfterFunc(50*time.Millisecond, func() { close(g.release) })
	if !Halt(10 * time.Second) {
		t.Fatal("Halt did not reach the writer")
	}
	if !g.finished.Load() {
		t.Fatal("Halt returned while a line was half written")
	}
	w.Event("summary").Send() // would call Write again: it closes entered a second time and panics
	if !bytes.HasSuffix(g.buf.Bytes(), []byte("}\n")) || bytes.Count(g.buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("output after Halt: %q", g.buf.String())
	}
}
