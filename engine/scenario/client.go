package scenario

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/zmqx"
)

// client is a scenario's own connection to the controller: one DEALER on
// the reply socket, whose requests the controller answers in the order
// sent, and one PUSH on the pull socket. It is used from one goroutine.
type client struct {
	zctx    *zmq.Context
	reply   string
	dealer  *zmq.Socket
	push    *zmq.Socket
	timeout time.Duration
	sent    *sent
}

// sent counts what a scenario pushed to the controller itself.
type sent struct {
	frames atomic.Int64 // PUSH frames sent
	kvOps  atomic.Int64 // KV operations in them
}

func newClient(pull, reply string, timeout time.Duration, counts *sent) (*client, error) {
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, err
	}
	c := &client{zctx: zctx, reply: reply, timeout: timeout, sent: counts}
	if c.push, err = zmqx.NewPush(zctx, pull); err != nil {
		c.close(0)
		return nil, fmt.Errorf("PUSH %s: %w", pull, err)
	}
	if c.dealer, err = zmqx.NewDealer(zctx, reply); err != nil {
		c.close(0)
		return nil, fmt.Errorf("DEALER %s: %w", reply, err)
	}
	return c, nil
}

// close closes the sockets, letting PUSH frames drain for up to linger.
func (c *client) close(linger time.Duration) {
	if c.push != nil {
		c.push.SetLinger(linger)
		c.push.Close()
	}
	if c.dealer != nil {
		c.dealer.SetLinger(0)
		c.dealer.Close()
	}
	c.zctx.Term()
}

// send pushes one frame carrying kvOps KV operations.
func (c *client) send(frame []byte, kvOps int) error {
	if _, err := c.push.SendBytes(frame, 0); err != nil {
		return err
	}
	c.sent.frames.Add(1)
	c.sent.kvOps.Add(int64(kvOps))
	return nil
}

// requests sends every payload on the DEALER, at most window in flight,
// and returns each one's decoded reply in order (nil and the error where
// there is none). Replies arrive in the order sent; one not there within
// the timeout of its request ends the exchange, the socket is replaced so
// that no late reply is taken for a later request's.
func (c *client) requests(ctx context.Context, payloads [][]byte, window int) ([]wire.Msg, []error) {
	replies := make([]wire.Msg, len(payloads))
	errs := make([]error, len(payloads))
	if c.dealer == nil {
		for i := range errs {
			errs[i] = fmt.Errorf("DEALER %s could not be reopened", c.reply)
		}
		return replies, errs
	}
	poller := zmq.NewPoller()
	poller.Add(c.dealer, zmq.POLLIN)
	sentAt := make([]time.Time, len(payloads))
	next, head := 0, 0
	for head < len(payloads) {
		for next < len(payloads) && next-head < window {
			if err := zmqx.SendRequest(c.dealer, payloads[next]); err != nil {
				errs[next] = fmt.Errorf("Request send failed: %v", err)
				for i := next + 1; i < len(payloads); i++ {
					errs[i] = errs[next]
				}
				c.reset()
				return replies, errs
			}
			sentAt[next] = time.Now()
			next++
		}
		left := c.timeout - time.Since(sentAt[head])
		if ctx.Err() != nil || left <= 0 {
			why := fmt.Errorf("Request timeout - Controller may not be running at %s", c.reply)
			if ctx.Err() != nil {
				why = ctx.Err()
			}
			for i := head; i < len(payloads); i++ {
				errs[i] = why
			}
			c.reset()
			return replies, errs
		}
		polled, err := poller.Poll(min(left, 50*time.Millisecond))
		if err != nil || len(polled) == 0 {
			continue
		}
		for head < next {
			frames, err := c.dealer.RecvMessageBytes(zmq.DONTWAIT)
			if err != nil {
				break
			}
			if len(frames) == 0 {
				errs[head] = zmqx.ErrEmptyReply
			} else if replies[head], err = wire.Decode(frames[len(frames)-1]); err != nil {
				errs[head] = fmt.Errorf("undecodable reply: %w", err)
			}
			head++
		}
	}
	return replies, errs
}

// request sends one request and returns its decoded reply.
func (c *client) request(ctx context.Context, payload []byte) (wire.Msg, error) {
	r, errs := c.requests(ctx, [][]byte{payload}, 1)
	return r[0], errs[0]
}

// reset replaces the DEALER after a timeout.
func (c *client) reset() {
	c.dealer.SetLinger(0)
	c.dealer.Close()
	var err error
	if c.dealer, err = zmqx.NewDealer(c.zctx, c.reply); err != nil {
		c.dealer = nil
	}
}

// registerReply returns why m is not a RegisterRetMsg ("" when it is).
func registerReply(m wire.Msg) string {
	switch r := m.(type) {
	case *wire.RegisterRetMsg:
		return ""
	case *wire.ErrorMsg:
		return "controller error: " + r.Error
	default:
		return "unexpected reply " + m.TypeName() + " to RegisterMsg"
	}
}
