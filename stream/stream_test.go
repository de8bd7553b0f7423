package stream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
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
