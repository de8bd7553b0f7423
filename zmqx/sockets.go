package zmqx

import (
	"errors"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// Constants of LMCache's controller benchmark (tools/controller_benchmark
// constants.py), docs/protocol.md, "Benchmark sockets".
const (
	// SendTimeout is SNDTIMEO for the PUSH and DEALER sockets.
	SendTimeout = 5000 * time.Millisecond
	// RecvTimeout is RCVTIMEO for the DEALER sockets.
	RecvTimeout = 5000 * time.Millisecond
	// SendHWM is SNDHWM for the PUSH socket.
	SendHWM = 10000
	// BatchSendSize is the most frames per PUSH multipart message (end-of-run
	// deregistration; real workers batch the same way).
	BatchSendSize = 50
)

// NewPush creates a PUSH socket with SNDHWM=SendHWM and
// SNDTIMEO=SendTimeout (set before connecting) and connects it to endpoint
// (e.g. "tcp://127.0.0.1:8300"). Each frame sent on it is one message.
func NewPush(ctx *zmq.Context, endpoint string) (*zmq.Socket, error) {
	s, err := ctx.NewSocket(zmq.PUSH)
	if err != nil {
		return nil, err
	}
	if err := setAndConnect(s, endpoint, func() error {
		if err := s.SetSndhwm(SendHWM); err != nil {
			return err
		}
		return s.SetSndtimeo(SendTimeout)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// NewDealer creates a DEALER socket with RCVTIMEO=RecvTimeout and
// SNDTIMEO=SendTimeout (set before connecting) and connects it to endpoint.
// Use SendRequest and RecvReply on it.
func NewDealer(ctx *zmq.Context, endpoint string) (*zmq.Socket, error) {
	s, err := ctx.NewSocket(zmq.DEALER)
	if err != nil {
		return nil, err
	}
	if err := setAndConnect(s, endpoint, func() error {
		if err := s.SetRcvtimeo(RecvTimeout); err != nil {
			return err
		}
		return s.SetSndtimeo(SendTimeout)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// SendRequest sends the DEALER request frames ["", payload]; the controller
// reads the payload as frames[2] after ROUTER adds the identity.
func SendRequest(s *zmq.Socket, payload []byte) error {
	if _, err := s.SendBytes(nil, zmq.SNDMORE); err != nil {
		return err
	}
	_, err := s.SendBytes(payload, 0)
	return err
}

// ErrEmptyReply is returned by RecvReply for a message without frames.
var ErrEmptyReply = errors.New("zmqx: empty reply")

// RecvReply receives one reply message and returns its last frame (the
// encoded reply; the benchmark reads frames[-1]). A timeout surfaces as the
// socket's EAGAIN error.
func RecvReply(s *zmq.Socket) ([]byte, error) {
	frames, err := s.RecvMessageBytes(0)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 {
		return nil, ErrEmptyReply
	}
	return frames[len(frames)-1], nil
}

func setAndConnect(s *zmq.Socket, endpoint string, set func() error) error {
	err := set()
	if err == nil {
		err = s.Connect(endpoint)
	}
	if err != nil {
		s.SetLinger(0)
		s.Close()
	}
	return err
}
