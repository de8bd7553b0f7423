package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (/dev/ptmx): the child gets tty as
// its stdout and stderr, the test reads what it shows from ptm.
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptm, tty
}

// onTerminal runs lmfast with args in dir with stdout and stderr on one
// pseudo-terminal and returns its exit code and what the terminal showed.
func onTerminal(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	ptm, tty := openPTY(t)
	defer ptm.Close()
	c := lmfastProcess(args...)
	c.Dir, c.Stdout, c.Stderr = dir, tty, tty
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var shown bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(&shown, ptm) }() // ends with EIO once the child closed the terminal
	code := exitStatus(t, c.Wait())
	wg.Wait()
	return code, strings.ReplaceAll(shown.String(), "\r\n", "\n")
}

// TestTerminalJSONLToFile: with stdout on a terminal, `lmfast controller`
// and `lmfast l2` write their JSONL to lmfast-<run>.jsonl (named on the
// terminal), and the terminal shows the human report and no JSON line;
// with --out the file named is written and no other.
func TestTerminalJSONLToFile(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		report string // a line of the human report
	}{
		{"controller", []string{"controller", "--embedded", "--no-headroom", "--duration", "1", "--num-instances", "2"}, "LMCache Controller ZMQ Benchmark Results"},
		{"l2", []string{"l2", "--l2-adapter", `{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":100}`, "--num-keys", "4", "--data-size-kb", "4"}, "L2 Adapter Benchmark Result"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			code, shown := onTerminal(t, dir, c.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, shown)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "lmfast-*.jsonl"))
			if len(files) != 1 {
				t.Fatalf("files %v; terminal: %s", files, shown)
			}
			name := filepath.Base(files[0])
			if !strings.Contains(shown, "JSON lines go to "+name) || !strings.Contains(shown, c.report) {
				t.Errorf("the terminal names no %s or lacks the report: %s", name, shown)
			}
			for _, line := range strings.Split(shown, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "{") {
					t.Fatalf("a JSON line on the terminal: %s", line)
				}
			}
			var config, summary bool
			for _, l := range readJSONL(t, files[0]) {
				config = config || (l["event"] == "config" && "lmfast-"+l["run"].(string)+".jsonl" == name)
				summary = summary || l["event"] == "summary"
			}
			if !config || !summary {
				t.Errorf("%s: config line of its run %v, summary %v", name, config, summary)
			}

			out := filepath.Join(dir, "chosen.jsonl")
			if code, shown := onTerminal(t, dir, append(c.args, "--out", out)...); code != ExitOK || strings.Contains(shown, "JSON lines go to") {
				t.Fatalf("--out: exit %d: %s", code, shown)
			}
			if files, _ := filepath.Glob(filepath.Join(dir, "lmfast-*.jsonl")); len(files) != 1 || len(readJSONL(t, out)) == 0 {
				t.Errorf("--out on a terminal: files %v, %s empty", files, out)
			}
		})
	}
}
