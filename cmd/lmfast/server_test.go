package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// runningServer is a server subcommand (controller-server, sink) run in a
// goroutine, its stdout read line by line.
type runningServer struct {
	listening map[string]any // the first line
	lines     *bufio.Scanner // the lines after it
	exit      chan int       // the exit code, once run returns
	stderr    *bytes.Buffer
}

// startServerCmd runs lmfast with args and waits for its listening line.
func startServerCmd(t *testing.T, args ...string) *runningServer {
	t.Helper()
	pr, pw := io.Pipe()
	s := &runningServer{exit: make(chan int, 1), stderr: &bytes.Buffer{}}
	go func() {
		s.exit <- run(args, strings.NewReader(""), pw, s.stderr)
		pw.Close()
	}()
	s.lines = bufio.NewScanner(pr)
	if !s.lines.Scan() || json.Unmarshal(s.lines.Bytes(), &s.listening) != nil || s.listening["event"] != "listening" {
		t.Fatalf("first line %q; stderr %s", s.lines.Text(), s.stderr.String())
	}
	return s
}

// port returns a port number named in the listening line.
func (s *runningServer) port(key string) int { return int(s.listening[key].(float64)) }

// rest reads the remaining lines until stdout closes and returns the last
// one with event name, failing on any line that is not JSON.
func (s *runningServer) rest(t *testing.T, event string) map[string]any {
	t.Helper()
	var last map[string]any
	for s.lines.Scan() {
		var m map[string]any
		if err := json.Unmarshal(s.lines.Bytes(), &m); err != nil {
			t.Fatalf("invalid line %q", s.lines.Text())
		}
		if m["event"] == event {
			last = m
		}
	}
	return last
}
