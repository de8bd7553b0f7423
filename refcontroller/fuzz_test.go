package refcontroller

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/wiretest"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// FuzzHandleFrame feeds arbitrary bytes to both sockets' handlers: never a
// panic, and every ROUTER payload gets a reply.
func FuzzHandleFrame(f *testing.F) {
	for _, v := range wiretest.Load(f) {
		f.Add(v.Bytes(f))
	}
	f.Add([]byte(`{"type":"RegisterMsg","instance_id":"i","worker_id":0,"ip":"127.0.0.1","port":1,"peer_init_url":null}`))
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	s, err := Start(context.Background(), Config{Host: "127.0.0.1", HeartbeatPort: FreePort, HTTPPort: NoPort, Log: zerolog.Nop()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	var dec wire.Decoder
	pending := make([]*applyGroup, len(s.shards))
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, hbOnly := range []bool{false, true} {
			if reply := s.handleRequest(frame, hbOnly); len(reply) == 0 {
				t.Fatal("empty reply")
			}
		}
		s.pullFrame(&dec, frame, pending)
		s.flush(pending)
	})
}
