package l2

import (
	"testing"
	"time"
)

// TestWindowLookupHitsAreStoredKeys: every window-mode lookup meant as a
// hit names a stored key, so the hit rate is exactly trunc(nk·rate)/nk.
// Before, hits were (s·hit) mod universe + i, which for hit < nk runs past
// the last stored key (0.7489 instead of 0.75).
func TestWindowLookupHitsAreStoredKeys(t *testing.T) {
	cfg := testConfig(t, fsSpec(t.TempDir(), ""))
	cfg.NumKeys, cfg.InFlight, cfg.Rounds, cfg.Warmup, cfg.Payload = 4, 1, 2, 0, 4096
	cfg.Ops = []Op{Store} // wave: keys [0, 8), the window lookup's universe with these flags
	runCfg(t, cfg)
	cfg.Ops, cfg.Mode, cfg.Duration, cfg.HitRate = []Op{Lookup}, Window, 100*time.Millisecond, 0.75
	res, _ := runCfg(t, cfg)
	st := Stats(res.Ops[0], cfg)
	if st.TotalKeys < 100 || st.TotalSuccess*4 != st.TotalKeys*3 || st.Missing*4 != st.TotalKeys {
		t.Fatalf("%d keys looked up, %d found, %d missing: want exactly 3 of every 4 found", st.TotalKeys, st.TotalSuccess, st.Missing)
	}
}
