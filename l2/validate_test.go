package l2

import (
	"strings"
	"testing"
	"time"
)

// TestValidateRefusesOverflowingSizes: every product of the counts is
// bounded by division, so values whose products wrap an int64 are refused
// with the flag named instead of crashing the run (before: --num-keys 2^32
// --in-flight 2^32 wrapped to 0 keys per round and died allocating, and
// --num-keys 2^62 --in-flight 4 panicked carving the buffers).
func TestValidateRefusesOverflowingSizes(t *testing.T) {
	base := func() *Config {
		return &Config{NumKeys: 32, InFlight: 1, Payload: 256 << 10, Align: 1, Rounds: 1, Warmup: 1,
			Ops: Ops, IOWorkers: 1, Duration: time.Second}
	}
	tests := []struct {
		name string
		set  func(*Config)
		want string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"2^24 keys per round exactly", func(c *Config) { c.NumKeys, c.InFlight, c.Payload = 1<<12, 1<<12, 1024 }, ""},
		{"one key more than 2^24", func(c *Config) { c.NumKeys, c.InFlight = 1<<24+1, 1 }, "more than 16777216 keys per round"},
		{"product wraps to zero", func(c *Config) { c.NumKeys, c.InFlight = 1<<32, 1<<32 }, "--in-flight 4294967296 × --num-keys 4294967296"},
		{"product wraps negative", func(c *Config) { c.NumKeys, c.InFlight = 1<<62, 4 }, "keys per round"},
		{"max int in flight", func(c *Config) { c.NumKeys, c.InFlight = 2, int(^uint(0)>>1) }, "keys per round"},
		{"payload over 1 GiB", func(c *Config) { c.Payload = 1<<30 + 1024 }, "more than 1 GiB per key"},
		{"payload not a multiple of the alignment", func(c *Config) { c.Align = 4096; c.Payload = 1024 }, "multiple of --l1-align-bytes"},
		{"rounds times keys wrap", func(c *Config) { c.Rounds = int(^uint(0) >> 1) }, "keys per operation"},
		{"warmup plus rounds wrap", func(c *Config) { c.Rounds, c.Warmup = 1<<40, int(^uint(0)>>1) }, "keys per operation"},
		{"buffers over 1 TiB", func(c *Config) { c.NumKeys, c.InFlight, c.Payload = 1<<12, 1<<8, 1<<30 }, "more than 1 TiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.set(c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
