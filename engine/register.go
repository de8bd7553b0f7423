package engine

import (
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// registerWindow is how many RegisterMsg a sender keeps in flight on its
// reply DEALER: enough to hide the round trip, well below the socket's
// high-water marks (1000 messages), so a send never has to wait.
const registerWindow = 256

// preRegistration prefixes the error texts of pre-registration.
const preRegistration = "pre-registration: "

// requestTimeout is the error text of a request left unanswered, in
// LMCache's tool's words.
func requestTimeout(url string) string {
	return fmt.Sprintf("Request timeout - Controller may not be running at %s", url)
}

// register pre-registers the sender's pairs on lane 0's
// reply DEALER, up to registerWindow requests in flight. The controller
// answers a DEALER's requests in the order they came (LMCache's reply loop
// and lmfast's reference controller handle one request at a time), so the
// n-th reply is the n-th request's. It learns the heartbeat URL from the
// first RegisterRetMsg. It ends when every pair is answered, at deadline
// (every pair still unanswered or unsent has failed then), or soon after
// the group is interrupted: the requests in flight get half the stop
// budget to be answered, the pairs not yet sent are left alone.
func (s *sender) register(deadline time.Time) {
	if len(s.slots) == 0 || s.slots[0].reply == nil {
		return
	}
	sock := s.slots[0].reply
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	var (
		buf         []byte
		next        int     // the next pair to send
		sent        []*pair // pairs sent, in order; sent[head:] await their reply
		head        int
		interrupted bool
	)
	limit := deadline
	for next < len(s.pairs) || head < len(sent) {
		if !interrupted && s.grp.stop.isInterrupted() {
			interrupted = true
			if grace := time.Now().Add(StopBudget / 2); grace.Before(limit) {
				limit = grace
			}
			limit = s.grp.stop.until(limit)
		}
		now := time.Now()
		if !now.Before(limit) || (interrupted && head == len(sent)) {
			break
		}
		for !interrupted && next < len(s.pairs) && len(sent)-head < registerWindow {
			p := s.pairs[next]
			peer := PeerInitURL(p.worker)
			buf = wire.RegisterMsg{InstanceID: p.instance, WorkerID: int64(p.worker), IP: WorkerIP(p.worker),
				Port: int64(WorkerPort(p.worker)), PeerInitURL: &peer}.AppendMsgpack(buf[:0])
			if err := sendRequestNow(sock, buf); err != nil {
				if isTimeout(err) {
					break // the queue is full: wait for replies
				}
				s.registerFailed(preRegistration + "Request send failed: " + err.Error())
				next++
				continue
			}
			sent = append(sent, p)
			next++
		}
		if head == len(sent) {
			if next < len(s.pairs) {
				time.Sleep(time.Millisecond) // nothing in flight and the queue full: wait for it to move
			}
			continue
		}
		polled, err := poller.Poll(max(0, min(50*time.Millisecond, time.Until(limit))))
		if err != nil || len(polled) == 0 {
			continue // a timeout, or a signal interrupted the poll
		}
		for head < len(sent) {
			frames, err := sock.RecvMessageBytes(zmq.DONTWAIT)
			if err != nil {
				break
			}
			p := sent[head]
			head++
			if err := s.registerReply(frames); err != nil {
				s.registerFailed(preRegistration + err.Error())
				continue
			}
			p.registered = true
			s.registered = append(s.registered, p)
			s.regOK++
			if c := s.cfg.Registering; c != nil {
				c.OK.Add(1)
			}
		}
	}
	// What is left was not answered in time. A pair sent may still be
	// registered by a slow controller: it is deregistered at the end too.
	why := preRegistration + requestTimeout(s.cfg.ReplyEndpoint)
	if interrupted {
		why = preRegistration + "interrupted before the reply arrived"
	}
	for _, p := range sent[head:] {
		s.unconfirmed = append(s.unconfirmed, p)
		s.registerFailed(why)
	}
	if !interrupted {
		for range s.pairs[next:] {
			s.registerFailed(why)
		}
	}
	if head < len(sent) {
		// A late reply must never be taken for the answer to a run's request.
		_, _ = s.resetReply(0)
	}
}

// registerFailed counts one failed pre-registration.
func (s *sender) registerFailed(msg string) {
	s.regFailed++
	s.fail(OpRegister, msg)
	if c := s.cfg.Registering; c != nil {
		c.Failed.Add(1)
	}
}

// registerReply checks one reply to a RegisterMsg and learns the heartbeat
// URL from it.
func (s *sender) registerReply(frames [][]byte) error {
	if len(frames) == 0 {
		return zmqx.ErrEmptyReply
	}
	payload := frames[len(frames)-1]
	if s.grp.hbURL.Load() != nil { // nothing left to learn: the type tag is the check
		if tag, err := wire.PeekType(payload); err == nil && string(tag) == wire.TypeRegisterRetMsg {
			return nil
		}
	}
	m, err := wire.Decode(payload)
	if err != nil {
		return fmt.Errorf("undecodable reply: %w", err)
	}
	switch r := m.(type) {
	case *wire.RegisterRetMsg:
		if url, has := r.Get("heartbeat_url"); has {
			s.grp.learnHeartbeatURL(url)
		}
		return nil
	case *wire.ErrorMsg:
		return fmt.Errorf("controller error: %s", r.Error)
	default:
		return fmt.Errorf("unexpected reply %s to RegisterMsg", m.TypeName())
	}
}

// sendRequestNow sends the DEALER request frames ["", payload] without
// waiting; a full queue is EAGAIN.
func sendRequestNow(sock *zmq.Socket, payload []byte) error {
	if _, err := sock.SendBytes(nil, zmq.SNDMORE|zmq.DONTWAIT); err != nil {
		return err
	}
	// The rest of a message the socket accepted the first frame of is
	// never refused for a full queue.
	_, err := sock.SendBytes(payload, zmq.DONTWAIT)
	return err
}

// deregisterAll sends a DeRegisterMsg for every pre-registered pair and for
// every pair whose registration went unanswered, in multipart messages of
// at most zmqx.BatchSendSize frames, as LMCache's tool does at the end of a
// run. A message may wait zmqx.SendTimeout for room in a full queue; once
// one waited that long in vain (the controller reads nothing), or the
// stop budget ran out, the rest are not sent. What is not sent is counted
// as failed.
func (s *sender) deregisterAll() {
	pairs := make([]*pair, 0, len(s.registered)+len(s.unconfirmed))
	pairs = append(append(pairs, s.registered...), s.unconfirmed...)
	parts := make([]any, 0, zmqx.BatchSendSize)
	var gaveUp error
	for len(pairs) > 0 {
		n := min(len(pairs), zmqx.BatchSendSize)
		batch := pairs[:n]
		pairs = pairs[n:]
		err := gaveUp
		if err == nil {
			parts = parts[:0]
			for _, p := range batch {
				parts = append(parts, wire.DeRegisterMsg{InstanceID: p.instance, WorkerID: int64(p.worker),
					IP: WorkerIP(p.worker), Port: int64(WorkerPort(p.worker))}.AppendMsgpack(nil))
			}
			if err = s.pushUntil(parts, time.Now().Add(zmqx.SendTimeout)); err == nil {
				s.teardown.Add(int64(n))
				continue
			}
			if isTimeout(err) {
				gaveUp = err
			}
		}
		msg := err.Error()
		if isTimeout(err) {
			msg = fmt.Sprintf("Send timeout - Controller may not be running at %s", s.cfg.PullEndpoint)
		}
		s.fail(OpDeregister, "end-of-run DeRegister: "+msg)
	}
}

// pushUntil sends one multipart message on the PUSH socket, waiting while
// its queue is full until limit or the group's hurry time; past that it
// only takes room that is there.
func (s *sender) pushUntil(parts []any, limit time.Time) error {
	for {
		if !time.Now().Before(s.grp.stop.until(limit)) {
			_, err := s.push.SendMessageDontwait(parts...)
			return err
		}
		_, err := s.push.SendMessage(parts...)
		if err == nil || !isTimeout(err) {
			return err
		}
	}
}
