package refcontroller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/wire"
)

// TestRealMetricsCountAsLMCache: the real controller's socket gauges carry
// its role="controller" label and its semantics: every PULL frame counts
// (a bad one too, and each frame of a multipart message); every ROUTER
// message on the reply and heartbeat sockets counts, a short one too.
func TestRealMetricsCountAsLMCache(t *testing.T) {
	s := startServer(t, Config{HeartbeatPort: FreePort, HTTPPort: FreePort, Log: zerolog.Nop()})
	c := newClient(t, s.Ports())
	peer := "tcp://127.0.0.1:20000"
	c.ask(c.req, register("A", &peer))                                           // reply 1
	c.ask(c.hb, &wire.HeartbeatMsg{InstanceID: "A", IP: "127.0.0.1"})            // reply 2 (heartbeat socket)
	c.pushMsg(batch("A", wire.OpAdmit, 0, 1, 2), batch("A", wire.OpAdmit, 2, 3)) // 2 frames, one message
	c.pushMsg(batch("A", wire.OpEvict, 3, 1))                                    // 1 frame
	c.push.SendBytes([]byte{0xc1}, 0)                                            // 1 frame that does not decode
	c.req.SendBytes([]byte{0x80}, 0)                                             // reply 3: short, never answered
	c.ask(c.req, register("B", &peer))                                           // reply 4: answered after the short one
	got := s.WaitFrames(4, 10*time.Second)
	if got.PullFrames != 4 || got.ShortRequests != 1 {
		t.Fatalf("counters %+v", got)
	}
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", s.Ports().HTTP))
	for _, line := range []string{
		"# TYPE lmcache:cache_controller_pull_socket_message_count gauge",
		`lmcache:cache_controller_pull_socket_message_count{role="controller"} 4`,
		"# TYPE lmcache:cache_controller_reply_socket_message_count gauge",
		`lmcache:cache_controller_reply_socket_message_count{role="controller"} 4`,
		`lmcache:cache_controller_registered_workers_count{role="controller"} 2`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
