package l2

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/stream"
)

// failingPoll is a poll that, from its failAt-th call on, fails fails
// times with errno and then behaves as unix.Poll again; it counts both.
type failingPoll struct {
	failAt, fails int64
	errno         unix.Errno
	calls, failed atomic.Int64
}

func (p *failingPoll) poll(fds []unix.PollFd, ms int) (int, error) {
	if n := p.calls.Add(1); n >= p.failAt && p.failed.Load() < p.fails {
		p.failed.Add(1)
		return 0, p.errno
	}
	return unix.Poll(fds, ms)
}

// notOpenFd is a descriptor number no file can have: the soft limit on
// open files.
func notOpenFd(t *testing.T) int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	return int(min(rl.Cur, 1<<31-1))
}

// TestWaitRetriesEINTRAndFailsOnOtherErrors: a poll interrupted by a
// signal is retried (the completion it was waiting for is still seen);
// any other poll failure, and a descriptor that is not open, end the wait
// with an ErrWait after one poll: taken for a timeout, a drain (which
// waits without one) would retry it forever, and a closed eventfd
// (POLLNVAL) taken for ready would be a busy loop.
func TestWaitRetriesEINTRAndFailsOnOtherErrors(t *testing.T) {
	t.Run("EINTR", func(t *testing.T) {
		p := &failingPoll{failAt: 1, fails: 3, errno: unix.EINTR}
		c, _ := newCompletions(p.poll)
		defer c.Close()
		c.push(Tile{}, &[8]byte{1})
		ready, cancelled, err := c.Wait(-1, -1)
		if !ready || cancelled || err != nil || p.calls.Load() != 4 {
			t.Fatalf("ready %v cancelled %v err %v after %d polls (3 EINTR)", ready, cancelled, err, p.calls.Load())
		}
	})
	for _, errno := range []unix.Errno{unix.EBADF, unix.ENOMEM, unix.EINVAL} {
		t.Run(errno.Error(), func(t *testing.T) {
			p := &failingPoll{failAt: 1, fails: 1000, errno: errno}
			c, _ := newCompletions(p.poll)
			defer c.Close()
			for _, timeout := range []time.Duration{-1, time.Hour} {
				calls := p.calls.Load()
				ready, cancelled, err := c.Wait(timeout, -1)
				if ready || cancelled || !errors.Is(err, ErrWait) || !strings.Contains(err.Error(), errno.Error()) || p.calls.Load()-calls != 1 {
					t.Fatalf("timeout %v: ready %v cancelled %v err %v after %d polls", timeout, ready, cancelled, err, p.calls.Load()-calls)
				}
			}
		})
	}
	t.Run("eventfd not open", func(t *testing.T) {
		c, _ := NewCompletions()
		defer c.Close()
		real := c.efd
		c.efd = notOpenFd(t)
		defer func() { c.efd = real }()
		ready, cancelled, err := c.Wait(-1, -1)
		if ready || cancelled || !errors.Is(err, ErrWait) || !strings.Contains(err.Error(), "POLLNVAL") {
			t.Fatalf("ready %v cancelled %v err %v", ready, cancelled, err)
		}
	})
	t.Run("cancel fd not open", func(t *testing.T) {
		c, _ := NewCompletions()
		defer c.Close()
		ready, cancelled, err := c.Wait(-1, notOpenFd(t))
		if ready || cancelled || !errors.Is(err, ErrWait) || !strings.Contains(err.Error(), "cancel fd") {
			t.Fatalf("ready %v cancelled %v err %v", ready, cancelled, err)
		}
	})
}

// trackedStores wraps an fs adapter: every store waits a little (so I/O
// is in flight when the wait fails), and it records how many stores were
// running when it was closed and how many started after that.
type trackedStores struct {
	Adapter
	delay              time.Duration
	inside, atClose    atomic.Int64
	closed, afterClose atomic.Int64
	started            atomic.Int64
}

func (a *trackedStores) Store(s *Scratch, idx uint64, buf []byte) Outcome {
	a.inside.Add(1)
	defer a.inside.Add(-1)
	a.started.Add(1)
	if a.closed.Load() != 0 {
		a.afterClose.Add(1)
	}
	time.Sleep(a.delay)
	return a.Adapter.Store(s, idx, buf)
}

func (a *trackedStores) Close() error {
	a.atClose.Store(a.inside.Load())
	a.closed.Store(1)
	return a.Adapter.Close()
}

// TestRunEndsOnAFailedWait: a poll that fails (EBADF, 50 times in a row
// from its 3rd call) in the middle of a store ends the run after that one
// failure with an error naming the operation and the cause, in both modes,
// and only after the stores running then finished: none runs when the
// adapter is closed or starts after, no temp file is left, every file
// there is complete. The failure is not taken for a timeout, which the
// drain after it would retry as long as the failures last.
func TestRunEndsOnAFailedWait(t *testing.T) {
	for _, mode := range []Mode{Wave, Window} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, fsSpec(dir, ""))
			a := &trackedStores{delay: 2 * time.Millisecond}
			cfg.newAdapter = func(s Spec, o Options) (Adapter, error) {
				fs, err := New(s, o)
				a.Adapter = fs
				return a, err
			}
			p := &failingPoll{failAt: 3, fails: 50, errno: unix.EBADF}
			cfg.Poll = p.poll
			cfg.Ops, cfg.Rounds, cfg.Warmup, cfg.Raw = []Op{Store}, 4, 0, true
			cfg.NumKeys, cfg.InFlight, cfg.IOWorkers, cfg.Payload = 8, 2, 2, 4096
			cfg.Mode, cfg.Duration = mode, time.Hour
			var buf bytes.Buffer
			res, err := Run(context.Background(), cfg, stream.New(&buf, "l2", "t"))
			t.Logf("err %v; %d polls, %d failed; %d stores started", err, p.calls.Load(), p.failed.Load(), a.started.Load())
			want := "store: waiting for completions: poll: bad file descriptor"
			if res != nil || !errors.Is(err, ErrWait) || err.Error() != want {
				t.Fatalf("result %v, error %q, want %q", res, err, want)
			}
			if p.failed.Load() != 1 {
				t.Fatalf("%d failed polls: the failure was retried", p.failed.Load())
			}
			if a.atClose.Load() != 0 || a.afterClose.Load() != 0 || a.closed.Load() != 1 {
				t.Fatalf("%d stores running at the adapter's close, %d started after it", a.atClose.Load(), a.afterClose.Load())
			}
			if a.started.Load() >= int64(cfg.Rounds*cfg.KeysPerRound()) {
				t.Fatalf("all %d stores ran: the run went on after the failure", a.started.Load())
			}
			n := dataFiles(t, dir) // fails on a temp file
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if st, err := os.Stat(filepath.Join(dir, e.Name())); err != nil || st.Size() != int64(cfg.Payload) {
					t.Errorf("%s: %v, %d bytes", e.Name(), err, st.Size())
				}
			}
			if n == 0 {
				t.Fatal("no store finished before the failure: not the case under test")
			}
			if _, err := stream.ParseLines(buf.Bytes()); err != nil {
				t.Fatalf("JSONL: %v", err)
			}
		})
	}
}
