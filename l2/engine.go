package l2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lmfast/lmfast/internal/cpus"
)

// Job is one key's operation and, once done, its outcome and timestamps
// (nanoseconds on the package's monotonic clock, see Now).
type Job struct {
	Op        Op
	Idx       uint64
	Buf       []byte
	Submitted int64 // when its submit was issued
	Start     int64 // when a worker began it
	Done      int64 // when it finished
	Out       Outcome
	slot      int  // the submit slot of the run's job table it belongs to
	late      bool // finished after its round timed out (markLate); reset by each submit
}

// Tile is a run of jobs of one submit that one worker executes back to
// back, and the completion queue it reports to.
type Tile struct {
	Jobs []Job
	C    *Completions
}

// Engine executes tiles of jobs on I/O threads. Submit never waits for I/O;
// each finished tile is pushed to its Completions.
type Engine interface {
	// Name is the engine's name in config lines ("psync").
	Name() string
	// Workers is the number of I/O threads.
	Workers() int
	// Submit queues a tile.
	Submit(t Tile)
	// Stop makes every worker finish the job it is running and complete
	// each job it has not started as Cancelled, without doing its I/O,
	// from now on (Ctrl-C). Safe from any goroutine, any number of times.
	Stop()
	// Close stops the workers after the queued tiles ran (or, after Stop,
	// were cancelled).
	Close()
}

var epoch = time.Now()

// errCancelled is the outcome of a job the engine never started because
// the run was interrupted.
var errCancelled = errors.New("interrupted before it started")

// Now returns nanoseconds since the package's start on the monotonic clock.
func Now() int64 { return int64(time.Since(epoch)) }

// Completions is one operation's completion queue: workers push finished
// tiles and signal the operation's eventfd; the submitter waits on the
// eventfd and takes everything finished so far in one go. A worker writes
// the eventfd only when it makes the queue non-empty, so one wakeup (and one
// eventfd read) covers every completion that piles up while the submitter
// is busy.
type Completions struct {
	efd    int
	mu     sync.Mutex
	done   []Tile
	spare  []Tile
	wakes  int64 // eventfd reads that found completions
	tiles  int64 // tiles taken
	closed bool
	poll   PollFunc // nil: unix.Poll
	fds    [2]unix.PollFd
}

// NewCompletions returns a queue with its own eventfd (EFD_NONBLOCK, not a
// semaphore: a read returns and clears the count of signals).
func NewCompletions() (*Completions, error) { return newCompletions(nil) }

// newCompletions is NewCompletions waiting with poll (nil: unix.Poll).
func newCompletions(poll PollFunc) (*Completions, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &Completions{efd: fd, done: make([]Tile, 0, 64), spare: make([]Tile, 0, 64), poll: poll}, nil
}

// Fd returns the eventfd, readable when completions are waiting.
func (c *Completions) Fd() int { return c.efd }

// push is called by a worker for a finished tile.
func (c *Completions) push(t Tile, one *[8]byte) {
	c.mu.Lock()
	signal := len(c.done) == 0
	c.done = append(c.done, t)
	c.mu.Unlock()
	if signal {
		for {
			_, err := unix.Write(c.efd, one[:])
			if err != unix.EINTR {
				break
			}
		}
	}
}

// PollFunc is the poll(2) a Completions waits with (unix.Poll; tests
// inject failures through Config.Poll).
type PollFunc func(fds []unix.PollFd, timeoutMs int) (n int, err error)

// ErrWait wraps every failure of Completions.Wait: the completions can no
// longer be waited for, so the run cannot go on.
var ErrWait = errors.New("waiting for completions")

// Wait blocks until completions are waiting (ready), cancelFd (if ≥ 0)
// becomes readable (cancelled), or timeout passes (neither). timeout < 0
// waits forever. A poll interrupted by a signal (EINTR) is retried with
// the time left; any other failure — poll itself failing, a descriptor
// that is not open (POLLNVAL) or in error (POLLERR), the eventfd read
// failing — ends the wait with an error wrapping ErrWait, never as a
// timeout: retrying it would spin forever while in-flight I/O is drained
// without a timeout. Only one goroutine (the submitter) may wait at a time.
func (c *Completions) Wait(timeout time.Duration, cancelFd int) (ready, cancelled bool, err error) {
	// In the struct, not on the stack: passed to a func value (c.poll), an
	// array there would escape, one allocation per wait.
	fds := &c.fds
	*fds = [2]unix.PollFd{{Fd: int32(c.efd), Events: unix.POLLIN}, {Fd: int32(cancelFd), Events: unix.POLLIN}}
	n := 1
	if cancelFd >= 0 {
		n = 2
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	poll := c.poll
	if poll == nil {
		poll = unix.Poll
	}
	deadline := time.Now().Add(timeout)
	for {
		k, err := poll(fds[:n], ms)
		if err == unix.EINTR {
			if timeout >= 0 {
				if ms = int(time.Until(deadline) / time.Millisecond); ms < 0 {
					ms = 0
				}
			}
			continue
		}
		if err != nil {
			return false, false, fmt.Errorf("%w: poll: %v", ErrWait, err)
		}
		if k == 0 {
			return false, false, nil
		}
		const bad = unix.POLLNVAL | unix.POLLERR
		for i, what := range [2]string{"eventfd", "cancel fd"} {
			if i < n && fds[i].Revents&bad != 0 {
				return false, false, fmt.Errorf("%w: poll: %s %d: %s", ErrWait, what, fds[i].Fd, revents(fds[i].Revents))
			}
		}
		if n == 2 && fds[1].Revents != 0 {
			cancelled = true
		}
		if fds[0].Revents != 0 {
			if err := c.readEventfd(); err != nil {
				return false, cancelled, err
			}
			ready = true
		}
		return ready, cancelled, nil
	}
}

// readEventfd clears the eventfd's count (EAGAIN: already clear).
func (c *Completions) readEventfd() error {
	var b [8]byte
	for {
		_, err := unix.Read(c.efd, b[:])
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		}
		return fmt.Errorf("%w: eventfd read: %v", ErrWait, err)
	}
}

// revents names the error bits of a poll result.
func revents(r int16) string {
	switch {
	case r&unix.POLLNVAL != 0:
		return "not open (POLLNVAL)"
	case r&unix.POLLERR != 0:
		return "error condition (POLLERR)"
	}
	return fmt.Sprintf("revents %#x", r)
}

// Take appends every finished tile to dst[:0] and returns it; the caller
// owns the returned slice until its next Take (the two buffers swap).
func (c *Completions) Take(dst []Tile) []Tile {
	c.mu.Lock()
	got := c.done
	c.done = c.spare[:0]
	c.mu.Unlock()
	c.spare = got
	if len(got) > 0 {
		c.wakes++
		c.tiles += int64(len(got))
	}
	return got
}

// Stats returns how many Takes found completions and how many tiles they
// carried: tiles/wakes is the batching the eventfd achieved.
func (c *Completions) Stats() (wakes, tiles int64) { return c.wakes, c.tiles }

// Close closes the eventfd.
func (c *Completions) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	return unix.Close(c.efd)
}

// psync is the default engine: a pool of OS threads (optionally pinned)
// that each run the adapter's synchronous pread/pwrite path, like fio's
// psync engine with numjobs threads.
type psync struct {
	a       Adapter
	queue   chan Tile    // tiles every worker takes
	capped  [3]chan Tile // per op: tiles only the first limits[op] workers take (nil: the op's tiles go to queue)
	limits  OpLimits
	wg      sync.WaitGroup
	n       int
	stopped atomic.Bool
}

// OpLimits caps, per operation (indexed by Op), how many workers run tiles
// of it at once; 0 lets every worker. Tiles of a capped operation wait in
// a queue of their own that only the first n workers take from, so a
// capped run has n threads doing its I/O, not every worker taking turns
// (handing a turn from thread to thread cost a wake-up per tile:
// docs/performance.md, "L2: buffered stores").
type OpLimits [3]int

// ioProcs is the GOMAXPROCS a pool of workers I/O threads runs with: one P
// per worker plus two (the submitter, the runtime). The workers spend their
// time blocked in pread/pwrite; with fewer Ps than threads, a worker whose
// syscall returns waits for a P (until sysmon retakes one from a thread
// still blocked) before it can start its next key, and the device idles
// (docs/performance.md, "L2: threads and GOMAXPROCS").
func ioProcs(workers int) int { return min(workers+2, 256) }

// ioProcsHeld is what the live pools need of GOMAXPROCS: the process-wide
// value is the largest of their demands and of the value before the first
// of them, which comes back when the last one closes.
var ioProcsHeld struct {
	sync.Mutex
	demands map[*psync]int
	before  int
}

// holdProcs records p's demand (release: drops it) and sets GOMAXPROCS.
func holdProcs(p *psync, release bool) {
	h := &ioProcsHeld
	h.Lock()
	defer h.Unlock()
	if h.demands == nil {
		h.demands = map[*psync]int{}
	}
	if release {
		delete(h.demands, p)
	} else {
		if len(h.demands) == 0 {
			h.before = runtime.GOMAXPROCS(0)
		}
		h.demands[p] = ioProcs(p.n)
	}
	want := h.before
	for _, d := range h.demands {
		want = max(want, d)
	}
	if runtime.GOMAXPROCS(0) != want {
		runtime.GOMAXPROCS(want)
	}
}

// NewPsync starts workers threads running a's operations, pinned
// round-robin to cpuList when it is not empty. queueCap bounds the tiles
// waiting for a worker. threadBufs, if not nil, holds one buffer per
// worker: a load job without a buffer of its own (Job.Buf nil) reads into
// the buffer of the worker that runs it, as each of fio's psync jobs reuses
// one buffer. limits caps the workers running each operation at once. It
// raises GOMAXPROCS to at least ioProcs(workers) until Close (the previous
// value returns when the last pool closes).
func NewPsync(a Adapter, workers int, cpuList []int, queueCap int, threadBufs [][]byte, limits OpLimits) (Engine, error) {
	if workers < 1 {
		return nil, fmt.Errorf("need at least one I/O worker, got %d", workers)
	}
	if threadBufs != nil && len(threadBufs) != workers {
		return nil, fmt.Errorf("%d thread buffers for %d I/O workers", len(threadBufs), workers)
	}
	p := &psync{a: a, queue: make(chan Tile, max(queueCap, workers)), n: workers, limits: limits}
	for op, n := range limits {
		if n < 0 {
			return nil, fmt.Errorf("a limit of %d workers for %s", n, Op(op))
		}
		if n > 0 && n < workers {
			p.capped[op] = make(chan Tile, max(queueCap, workers))
		}
	}
	holdProcs(p, false)
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		cpu := -1
		if len(cpuList) > 0 {
			cpu = cpuList[i%len(cpuList)]
		}
		var own []byte
		if threadBufs != nil {
			own = threadBufs[i]
		}
		p.wg.Add(1)
		go p.worker(i, cpu, own, errs)
	}
	for i := 0; i < workers; i++ {
		if err := <-errs; err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// worker runs tiles until the queues it takes from close: every
// operation's shared queue, and the queue of each capped operation whose
// first limits[op] workers include worker i. own is its buffer for loads
// without one (nil: none).
func (p *psync) worker(i, cpu int, own []byte, started chan<- error) {
	defer p.wg.Done()
	runtime.LockOSThread() // the thread exits with the goroutine
	if cpu >= 0 {
		if err := cpus.Pin(cpu); err != nil {
			started <- err
			for range p.queue {
			}
			return
		}
	}
	started <- nil
	var mine [3]chan Tile
	for op, q := range p.capped {
		if q != nil && i < p.limits[op] {
			mine[op] = q
		}
	}
	var s Scratch
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	queue := p.queue
	for queue != nil || mine[0] != nil || mine[1] != nil || mine[2] != nil {
		var t Tile
		var ok bool
		from := &queue // a nil channel is never ready: a select skips it
		select {
		case t, ok = <-queue:
		case t, ok = <-mine[0]:
			from = &mine[0]
		case t, ok = <-mine[1]:
			from = &mine[1]
		case t, ok = <-mine[2]:
			from = &mine[2]
		}
		if !ok {
			*from = nil
			continue
		}
		p.run(t, &s, own)
		t.C.push(t, &one)
	}
}

// run executes t's jobs back to back; own is the worker's load buffer.
func (p *psync) run(t Tile, s *Scratch, own []byte) {
	for k := range t.Jobs {
		j := &t.Jobs[k]
		j.Start = Now()
		if p.stopped.Load() {
			j.Out, j.Done = Outcome{Status: Cancelled, Err: errCancelled}, j.Start
			continue
		}
		switch j.Op {
		case Store:
			j.Out = p.a.Store(s, j.Idx, j.Buf)
		case Lookup:
			j.Out = p.a.Lookup(s, j.Idx)
		case Load:
			buf := j.Buf
			if buf == nil {
				buf = own
			}
			j.Out = p.a.Load(s, j.Idx, buf)
		}
		j.Done = Now()
	}
}

func (p *psync) Name() string { return "psync" }
func (p *psync) Workers() int { return p.n }
func (p *psync) Submit(t Tile) {
	if len(t.Jobs) > 0 {
		if q := p.capped[t.Jobs[0].Op]; q != nil {
			q <- t
			return
		}
	}
	p.queue <- t
}
func (p *psync) Stop() { p.stopped.Store(true) }
func (p *psync) Close() {
	if p.queue != nil {
		close(p.queue)
		for _, q := range p.capped {
			if q != nil {
				close(q)
			}
		}
		p.wg.Wait()
		p.queue = nil
	}
	holdProcs(p, true) // a second Close drops nothing and changes nothing
}
