package engine

// Groups splits a run into n engine groups (LMCache's processes) of base:
// group g has Proc g and, with pinned CPUs, every n-th of them from the
// g-th (round-robin) and one sender per CPU; without, senders senders, or
// when senders is 0 half of numCPU shared by the groups, at least one.
// Each group is validated; the error names the flag at fault.
func Groups(base Config, n int, pinned []int, senders, numCPU int) ([]Config, error) {
	groups := make([]Config, n)
	for g := range groups {
		cfg := base
		cfg.Proc = g
		cfg.CPUs = nil
		switch {
		case pinned != nil:
			for i := g; i < len(pinned); i += n {
				cfg.CPUs = append(cfg.CPUs, pinned[i])
			}
			cfg.Senders = len(cfg.CPUs)
		case senders > 0:
			cfg.Senders = senders
		default:
			cfg.Senders = max(1, numCPU/2/n)
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		groups[g] = cfg
	}
	return groups, nil
}

// TotalSenders is the senders of every group together.
func TotalSenders(groups []Config) int {
	n := 0
	for _, g := range groups {
		n += g.Senders
	}
	return n
}

// RequestLanes is how many request round trips per sender c keeps in
// flight: Concurrency when its mix has a request op (any op that is not a
// PUSH), else 0. A run's ceiling measures round trips at this depth.
func (c *Config) RequestLanes() int {
	for _, m := range c.Mix {
		if !m.Op.IsPush() && m.Pct > 0 {
			return c.Concurrency
		}
	}
	return 0
}

// ShareCeiling gives each group its share of the machine's ceiling c, in
// proportion to its senders: the rates scale, what was measured does not.
func ShareCeiling(groups []Config, c Ceiling) {
	total := TotalSenders(groups)
	for i := range groups {
		share := float64(groups[i].Senders) / float64(total)
		groups[i].Ceiling = &Ceiling{Transport: c.Transport, PushBytes: c.PushBytes,
			PushPerSec: c.PushPerSec * share, RoundTripPerSec: c.RoundTripPerSec * share,
			EnginePushPerSec: c.EnginePushPerSec * share, EngineRoundTripPerSec: c.EngineRoundTripPerSec * share}
	}
}
