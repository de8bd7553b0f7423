package engine

import (
	"fmt"
	"math"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/ring"
	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// nextItem waits for the producer's next operation; nil once giveUpAt
// passed or on stop. An empty ring means the producer is behind: back off
// (spin, yield, then sleep) so the wait does not take the CPU the producer
// and libzmq's I/O threads need.
func (s *sender) nextItem(stop <-chan struct{}, giveUpAt time.Time) *item {
	for attempt := 0; ; attempt++ {
		if it, ok := s.queue.Peek(); ok {
			return it
		}
		if attempt&63 == 63 {
			select {
			case <-stop:
				return nil
			default:
			}
			if !time.Now().Before(giveUpAt) {
				return nil
			}
		}
		ring.Wait(attempt)
	}
}

// sendPush sends one PUSH frame; sent is the time just taken before it.
// A full queue is waited for up to zmqx.SendTimeout, as LMCache's tool
// does, but in slices of sendSlice so that a stop or giveUpAt ends the
// wait; it then returns false, the frame neither sent nor counted.
func (s *sender) sendPush(it *item, intended, sent, giveUpAt time.Time) bool {
	var err error
	s.pushing.Store(1)
	defer s.pushing.Store(0)
	for {
		if _, err = s.push.SendBytes(it.payload, 0); err == nil || !isTimeout(err) {
			break
		}
		if stopped(s.stop) || !time.Now().Before(giveUpAt) {
			return false
		}
		if time.Since(sent) >= zmqx.SendTimeout {
			break
		}
	}
	end := time.Now()
	if err != nil {
		msg := err.Error()
		if isTimeout(err) {
			msg = fmt.Sprintf("Send timeout - Controller may not be running at %s", s.cfg.PullEndpoint)
		}
		s.failed(it.op, msg, intended)
		s.sample(it.op, false, intended, sent, end)
		return true
	}
	if it.pair != nil {
		it.pair.held.applyLocked(it.loc, it.op == OpAdmit, it.keys)
	}
	s.pushes++
	s.kvOps += int64(it.kvOps)
	s.pushBytes += int64(len(it.payload))
	if intended.Before(s.measureFrom) {
		s.warmupFrames.Add(1)
	}
	s.done(it.op, it.msgs, intended, sent, end)
	return true
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// sendRequest puts a request on a free lane, waiting for one if all are
// busy (that wait counts toward the latency from the intended time). It
// returns false, sending nothing, when giveUpAt passed during that wait or
// the sender was stopped.
func (s *sender) sendRequest(it *item, intended, giveUpAt time.Time) bool {
	s.scheduleLanes()
	for s.busy >= s.lanes && s.lanes > 0 {
		if stopped(s.stop) {
			return false
		}
		left := time.Until(giveUpAt)
		if left <= 0 {
			return false
		}
		s.harvest(min(left, 50*time.Millisecond)) // frees a lane by a reply or by expiry
		s.scheduleLanes()
	}
	sent := time.Now()
	if !sent.Before(giveUpAt) {
		return false
	}
	lane := -1
	for i, sl := range s.slots[:s.lanes] {
		if !sl.busy {
			lane = i
			break
		}
	}
	if lane < 0 {
		s.failed(it.op, "no request lane free", intended)
		return true
	}
	sl := s.slots[lane]
	sock := sl.reply
	if it.op == OpHeartbeat {
		sock = sl.heartbeat
		if sock == nil {
			s.failed(it.op, "Heartbeat socket not initialized. heartbeat_url=None. Register first to get heartbeat_url.", intended)
			return true
		}
	} else if sock == nil {
		s.failed(it.op, "DEALER socket not initialized. Ensure controller_reply_url is configured.", intended)
		return true
	}
	if err := zmqx.SendRequest(sock, it.payload); err != nil {
		s.failed(it.op, fmt.Sprintf("Request send failed: %v", err), intended)
		s.sample(it.op, false, intended, sent, time.Now())
		return true
	}
	sl.busy, sl.waitOn, sl.op, sl.msgs, sl.intended, sl.sent = true, sock, it.op, it.msgs, intended, sent
	sl.checked, sl.expect = it.checked, it.expect
	s.busy++
	return true
}

// harvest collects the replies that arrive within timeout (0: only those
// already there) and expires requests older than the request timeout. It
// reports whether any lane was freed.
func (s *sender) harvest(timeout time.Duration) bool {
	polled, err := s.poller.Poll(timeout)
	freed := false
	now := time.Now()
	if err == nil {
		for _, p := range polled {
			lane, ok := s.bySock[p.Socket]
			if !ok {
				continue
			}
			// One reply at most: a lane has one request outstanding, and
			// its sockets are replaced when a request expires, so no other
			// reply can be queued behind it.
			reply, frames, err := recvReply(p.Socket)
			if err != nil {
				continue
			}
			sl := s.slots[lane]
			if !sl.busy || sl.waitOn != p.Socket {
				continue // not awaited: nothing was sent on this socket
			}
			s.complete(sl, reply, frames, now)
			freed = true
		}
	}
	for i, sl := range s.slots {
		if sl.busy && now.Sub(sl.sent) > s.cfg.RequestTimeout {
			s.expire(i, now)
			freed = true
		}
	}
	return freed
}

// harvestUntil harvests replies while waiting for a due time, looking for
// a stop at least every 50 ms.
func (s *sender) harvestUntil(t time.Time) {
	for s.busy > 0 && !stopped(s.stop) {
		d := time.Until(t)
		if d <= 200*time.Microsecond {
			return
		}
		s.harvest(min(d-100*time.Microsecond, 50*time.Millisecond))
	}
}

// recvReply receives one message without waiting and returns its last
// frame (the encoded reply, as LMCache's tool reads frames[-1]) and how
// many frames it had. Only the last frame is kept: no slice of frames is
// built per reply.
func recvReply(sock *zmq.Socket) (last []byte, frames int, err error) {
	for {
		b, err := sock.RecvBytes(zmq.DONTWAIT)
		if err != nil {
			return nil, frames, err
		}
		last = b
		frames++
		more, err := sock.GetRcvmore()
		if err != nil {
			return nil, frames, err
		}
		if !more {
			return last, frames, nil
		}
	}
}

func (s *sender) complete(sl *slot, reply []byte, frames int, now time.Time) {
	sl.busy = false
	s.busy--
	if frames == 0 {
		s.failed(sl.op, "empty reply", sl.intended)
		return
	}
	msg := checkReply(sl.op, reply)
	if msg == "" && sl.checked {
		msg = s.cfg.Lookups.Check(sl.expect, reply)
	}
	if msg != "" {
		s.failed(sl.op, msg, sl.intended)
		s.sample(sl.op, false, sl.intended, sl.sent, now)
		return
	}
	s.done(sl.op, sl.msgs, sl.intended, sl.sent, now)
}

// replyTypes is the reply each request op expects.
var replyTypes = [numOps]string{OpP2PLookup: wire.TypeBatchedP2PLookupRetMsg, OpHeartbeat: wire.TypeHeartbeatRetMsg,
	OpRegister: wire.TypeRegisterRetMsg}

// checkReply returns why a reply is not the answer op expects ("" when it
// is). LMCache's tool never reads its replies; lmfast counts an ErrorMsg,
// a wrong reply type or a reply that is not one message as an error. On
// every reply it reads only the type tag and the framing (wire.PeekType);
// a reply of another type is decoded in full, to name it or to quote the
// controller's error.
func checkReply(op Op, payload []byte) string {
	tag, err := wire.PeekType(payload)
	if err != nil {
		return "undecodable reply: " + err.Error()
	}
	if string(tag) == replyTypes[op] {
		return ""
	}
	m, err := wire.Decode(payload)
	if err != nil {
		return "undecodable reply: " + err.Error()
	}
	if e, ok := m.(*wire.ErrorMsg); ok {
		return "controller error: " + e.Error
	}
	return fmt.Sprintf("unexpected reply %s to %s", m.TypeName(), op)
}

func (s *sender) expire(i int, now time.Time) {
	sl := s.slots[i]
	sl.busy = false
	s.busy--
	url := s.cfg.ReplyEndpoint
	if sl.op == OpHeartbeat {
		url = s.grp.heartbeatURL()
		s.failed(sl.op, fmt.Sprintf("Heartbeat timeout waiting for response from %s", url), sl.intended)
		_ = s.resetHeartbeat(i)
	} else {
		s.failed(sl.op, requestTimeout(url), sl.intended)
		_, _ = s.resetReply(i)
	}
	s.sample(sl.op, false, sl.intended, sl.sent, now)
}

// finish waits for outstanding replies, bounded by the request timeout
// and, once the group is interrupted, by half of what is left of the stop
// budget (the other half is for the deregistration and the drain). A
// request still unanswered then is an error.
func (s *sender) finish() {
	for s.busy > 0 {
		if h := s.grp.stop.hurryAt(); !h.IsZero() {
			if now := time.Now(); !now.Before(h.Add(-StopBudget / 2)) {
				s.abandon(now)
				return
			}
		}
		s.harvest(10 * time.Millisecond)
	}
}

// abandon gives up the requests still awaiting a reply.
func (s *sender) abandon(now time.Time) {
	for _, sl := range s.slots {
		if sl.busy {
			sl.busy = false
			s.busy--
			s.failed(sl.op, "no reply before the run was interrupted", sl.intended)
			s.sample(sl.op, false, sl.intended, sl.sent, now)
		}
	}
}

// closeSockets closes every socket; PUSH keeps lingering up to the drain
// timeout (or what is left of the stop budget) so nothing queued is thrown
// away.
func (s *sender) closeSockets() {
	if s.push != nil {
		now := time.Now()
		end := s.grp.stop.until(now.Add(s.cfg.DrainTimeout))
		linger := max(0, end.Sub(now))
		s.push.SetLinger(linger)
		s.grp.stop.noteLinger(now.Add(linger))
		s.push.Close()
	}
	for _, sl := range s.slots {
		for _, sock := range []*zmq.Socket{sl.reply, sl.heartbeat} {
			if sock != nil {
				sock.SetLinger(0)
				sock.Close()
			}
		}
	}
}

// pin locks the sender to its CPU, if it has one.
func (s *sender) pin() error {
	if s.cpu < 0 {
		return nil
	}
	return cpus.Pin(s.cpu)
}

// scheduleLanes sets the request lanes in force by --concurrency-schedule
// (nothing without one): its value now, rounded, at least 1, at most the
// lanes opened.
func (s *sender) scheduleLanes() {
	if s.laneShape == nil {
		return
	}
	v := s.laneShape.At(time.Since(s.laneFrom).Seconds())
	s.lanes = min(max(1, int(math.Round(v))), len(s.slots))
}
