package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// pullDrain binds a PULL socket on a free 127.0.0.1 port and reads it until
// the test ends; it returns the port.
func pullDrain(t *testing.T) int {
	t.Helper()
	port, _ := pullCounter(t)
	return port
}

// pullCounter is pullDrain that also counts the frames read: frames
// returns the count so far.
func pullCounter(t *testing.T) (port int, frames func() int64) {
	t.Helper()
	ctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ctx.NewSocket(zmq.PULL)
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := s.GetLastEndpoint()
	fmt.Sscanf(ep[strings.LastIndex(ep, ":")+1:], "%d", &port)
	s.SetRcvtimeo(20 * time.Millisecond)
	var n atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				s.SetLinger(0)
				s.Close()
				ctx.Term()
				return
			default:
				if _, err := s.RecvBytes(0); err == nil {
					n.Add(1)
				}
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return port, n.Load
}

// TestControllerInterruptFlushesSummary: SIGINT mid-run stops sending,
// writes the summary (interrupted), leaves only complete JSON lines and exits 130. The
// signal comes once the controller has received the run's first frames.
func TestControllerInterruptFlushesSummary(t *testing.T) {
	port, frames := pullCounter(t)
	out := filepath.Join(t.TempDir(), "run.jsonl")
	ended := make(chan struct{})
	defer close(ended)
	go func() {
		for frames() < 10 {
			select {
			case <-ended: // the run ended without sending: no signal
				return
			case <-time.After(time.Millisecond):
			}
		}
		syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"controller", "--no-headroom", "--monitor-ports", fmt.Sprintf(`{"pull":%d}`, port),
		"--operations", "admit:100", "--duration", "60", "--interval", "200ms", "--out", out}, strings.NewReader(""), &stdout, &stderr)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitInterrupted, stderr.String())
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("interrupt took %v", el)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("}\n")) {
		t.Fatalf("last line incomplete: %q", data[max(0, len(data)-80):])
	}
	var summaryAll map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("invalid line %q: %v", sc.Text(), err)
		}
		if m["event"] == "summary" && m["op"] == "all" {
			summaryAll = m
		}
	}
	if summaryAll == nil || summaryAll["kv_ops_sent"].(float64) == 0 || summaryAll["interrupted"] != true {
		t.Fatalf("no usable summary after interrupt: %v", summaryAll)
	}
	if !strings.Contains(stderr.String(), "LMCache Controller ZMQ Benchmark Results") {
		t.Fatalf("human report missing from stderr: %s", stderr.String())
	}
}
