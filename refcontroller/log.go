package refcontroller

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// perKindPerSecond is how many warnings of one kind are logged each second;
// the rest are counted and reported in one line when the second is over.
const perKindPerSecond = 10

// limitedLog rate-limits per-message warnings so a flood of bad frames
// cannot turn the log into the bottleneck.
type limitedLog struct {
	log        zerolog.Logger
	mu         sync.Mutex
	second     time.Time
	seen       map[string]int
	suppressed map[string]int
}

func newLimitedLog(l zerolog.Logger) *limitedLog {
	return &limitedLog{log: l, seen: map[string]int{}, suppressed: map[string]int{}}
}

// warn logs (kind, message, detail) unless this kind already logged
// perKindPerSecond lines this second.
func (l *limitedLog) warn(kind, msg, detail string) {
	l.mu.Lock()
	l.rollLocked(time.Now())
	l.seen[kind]++
	if l.seen[kind] > perKindPerSecond {
		l.suppressed[kind]++
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	e := l.log.Warn().Str("kind", kind)
	if detail != "" {
		e = e.Str("detail", detail)
	}
	e.Msg(msg)
}

// tick lets an idle loop flush the suppressed counts of a past second.
func (l *limitedLog) tick() {
	l.mu.Lock()
	l.rollLocked(time.Now())
	l.mu.Unlock()
}

func (l *limitedLog) flush() {
	l.mu.Lock()
	l.rollLocked(time.Now().Add(time.Hour))
	l.mu.Unlock()
}

func (l *limitedLog) rollLocked(now time.Time) {
	sec := now.Truncate(time.Second)
	if sec.Equal(l.second) {
		return
	}
	for kind, n := range l.suppressed {
		l.log.Warn().Str("kind", kind).Int("suppressed", n).Msg("similar warnings suppressed in the last second")
	}
	l.second = sec
	clear(l.seen)
	clear(l.suppressed)
}
