package refcontroller

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/lmfast/lmfast/zmqx"
)

// The PULL socket's batches: at most pullerFrames frames per receive,
// copied into an arena of pullerArena bytes.
const (
	pullerFrames = 256
	pullerArena  = 1 << 20
)

// puller is the server's PULL socket, bound to port (the one picked when
// the configuration asked for FreePort).
type puller struct {
	*zmqx.Puller
	port int
}

// openPuller binds a PULL socket on host:port (port 0: any free one).
func openPuller(host string, port int) (*puller, error) {
	ep := fmt.Sprintf("tcp://%s:%d", host, port)
	if port == FreePort {
		ep = fmt.Sprintf("tcp://%s:*", host)
	}
	p, err := zmqx.OpenPuller(ep, pullerFrames, pullerArena)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			err = errors.New("address already in use")
		}
		return nil, &BindError{Socket: "pull", Port: port, Err: err}
	}
	bound, err := zmqx.Port(p.Endpoint())
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("pull: %w", err)
	}
	return &puller{Puller: p, port: bound}, nil
}
