package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serverProcess is `lmfast controller-server` running as a child process
// (this test binary, see TestMain), so that it is scheduled, killed and
// restarted as a controller of its own. Its stdout lines are collected.
type serverProcess struct {
	proc      *os.Process
	listening map[string]any
	exited    chan error
	stderr    *bytes.Buffer

	mu    sync.Mutex
	lines []map[string]any // the lines after the listening line
	eof   chan struct{}
}

// startServerProcess starts controller-server with args and waits for its
// listening line.
func startServerProcess(t *testing.T, args ...string) *serverProcess {
	t.Helper()
	cmd := lmfastProcess(append([]string{"controller-server"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &serverProcess{exited: make(chan error, 1), stderr: &bytes.Buffer{}, eof: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.proc = cmd.Process
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	first := make(chan error, 1)
	go func() {
		defer close(s.eof)
		if !sc.Scan() {
			first <- fmt.Errorf("no listening line: %v", sc.Err())
			io.Copy(io.Discard, stdout)
			return
		}
		first <- json.Unmarshal(sc.Bytes(), &s.listening)
		for sc.Scan() {
			var m map[string]any
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.UseNumber() // unix nanoseconds do not fit a float64 exactly
			if dec.Decode(&m) == nil {
				s.mu.Lock()
				s.lines = append(s.lines, m)
				s.mu.Unlock()
			}
		}
	}()
	go func() {
		<-s.eof
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { s.signal(syscall.SIGKILL); <-s.eof })
	select {
	case err := <-first:
		if err != nil || s.listening["event"] != "listening" {
			t.Fatalf("controller-server: %v %v; stderr %s", err, s.listening, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("controller-server did not listen within 30 s; stderr %s", s.stderr.String())
	}
	return s
}

// port returns a port named in the listening line.
func (s *serverProcess) port(key string) int { return int(s.listening[key].(float64)) }

// signal sends sig to the server's process (none once it was waited for:
// its PID may be another process's by then).
func (s *serverProcess) signal(sig syscall.Signal) { _ = s.proc.Signal(sig) }

// stop ends the server with SIGTERM and returns every line it wrote after
// the listening line (its summary last).
func (s *serverProcess) stop(t *testing.T) []map[string]any {
	t.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.eof:
	case <-time.After(30 * time.Second):
		t.Fatal("controller-server did not stop within 30 s of SIGTERM")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.lines...)
}

// kill ends the server with SIGKILL and waits until it is gone.
func (s *serverProcess) kill(t *testing.T) {
	t.Helper()
	s.signal(syscall.SIGKILL)
	select {
	case <-s.eof:
	case <-time.After(30 * time.Second):
		t.Fatal("controller-server still running 30 s after SIGKILL")
	}
}

// monitorPorts is the --monitor-ports value that targets the server.
func (s *serverProcess) monitorPorts() string {
	return fmt.Sprintf(`{"pull":%d,"reply":%d}`, s.port("pull_port"), s.port("reply_port"))
}

// metricsURL is the server's /metrics page.
func (s *serverProcess) metricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.port("http_port"))
}

// summaryOf returns the line of a server's output whose event is name
// (the last one).
func summaryOf(lines []map[string]any, name string) map[string]any {
	var last map[string]any
	for _, l := range lines {
		if l["event"] == name {
			last = l
		}
	}
	return last
}
