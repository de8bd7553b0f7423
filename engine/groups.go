package engine

// Groups splits a run into n engine groups (LMCache's processes) of base:
// group g has Proc g and, with pinned CPUs, every n-th of them from the
// g-th (round-robin) and one sender per CPU; without, senders senders, or
// when senders is 0 half of numCPU shared by the groups, at least one.
// A sender owns whole (instance, worker) pairs, so a group runs at most one
// per pair (and keeps the CPUs of those): asked is the senders group 0
// was given before that cap, for a caller's warning. Each group is
// validated; the error names the flag at fault.
func Groups(base Config, n int, pinned []int, senders, numCPU int) (groups []Config, asked int, err error) {
	groups = make([]Config, n)
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
			return nil, 0, err
		}
		if g == 0 {
			asked = cfg.Senders
		}
		if pairs := cfg.pairsCount(); cfg.Senders > pairs {
			cfg.Senders = pairs
			if cfg.CPUs != nil {
				cfg.CPUs = cfg.CPUs[:pairs]
			}
		}
		groups[g] = cfg
	}
	return groups, asked, nil
}

// PinnedCPUs is the CPUs of every group's senders, group after group, or
// nil when the senders are not pinned.
func PinnedCPUs(groups []Config) []int {
	var cpus []int
	for _, g := range groups {
		cpus = append(cpus, g.CPUs...)
	}
	return cpus
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
