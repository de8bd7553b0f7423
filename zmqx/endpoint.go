package zmqx

import (
	"fmt"
	"strconv"
	"strings"
)

// Port returns the port of a bound tcp endpoint such as
// "tcp://127.0.0.1:41234" (what ZMQ_LAST_ENDPOINT reports).
func Port(endpoint string) (int, error) {
	p, err := strconv.Atoi(endpoint[strings.LastIndex(endpoint, ":")+1:])
	if err != nil {
		return 0, fmt.Errorf("cannot read bound port from %q", endpoint)
	}
	return p, nil
}
