package l2

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lmfast/lmfast/internal/pyfmt"
)

// Title is the summary's title, as LMCache's.
const Title = "L2 Adapter Benchmark Result"

// Width is the terminal summary's width.
const Width = 64

// Entry is one summary value. Value is an int64, a float64 (already
// rounded as LMCache rounds it), a string or nil.
type Entry struct {
	Key, Label string
	Value      any
	// NoData marks a figure of an operation without a completed round:
	// LMCache's formats print its zero (result.py's rule), lmfast's JSONL
	// null (no measurement).
	NoData bool
}

// Section is one block of the summary.
type Section struct {
	Key, Label string
	Entries    []Entry
}

func (s *Section) add(key, label string, v any) {
	s.Entries = append(s.Entries, Entry{Key: key, Label: label, Value: v})
}

// addMeasured adds a figure that needs a completed round (noData: there
// was none, and v is LMCache's 0).
func (s *Section) addMeasured(key, label string, v float64, noData bool) {
	s.Entries = append(s.Entries, Entry{Key: key, Label: label, Value: v, NoData: noData})
}

// OpStats are LMCache's statistics of one operation over its measured
// rounds (result.py), with lmfast's corrections: throughput and ops/s
// count what was actually transferred. A timed-out round has no duration
// (LMCache's result.py rule): it counts in Rounds, TimedOut and the key
// totals, but not in any duration, throughput or rate; with no completed
// round those are 0 (NoData).
//
// In wave mode TputAvg, ReqTputAvg and OpsAvg are LMCache's mean of
// per-round rates. In window mode (Aggregate) they are totals over the
// measured time, the sum of the measured rounds' durations, which tile it
// without gaps: a window "round" is just the next K keys to complete, and
// rounds that end inside one batch of completions last almost nothing, so
// the mean of their rates is far above what the disk did.
type OpStats struct {
	Op                                   Op
	Rounds, KeysPerRound                 int // Rounds: every measured round that started (LMCache's attempted_rounds)
	Completed                            int // measured rounds that did not time out: the ones with a duration
	NoData                               bool
	TotalKeys, TotalSuccess              int
	DurAvg, DurMin, DurMax, DurP50       float64 // seconds, over the completed rounds
	DurP99, DurStd                       float64
	TputAvg, TputMin, TputMax            float64 // MB/s of bytes actually moved; min and max per round
	ReqTputAvg                           float64 // MB/s of bytes asked for (LMCache's figure)
	OpsAvg                               float64 // keys/s that did the operation (written, looked up, loaded)
	Aggregate                            bool    // window mode: the three rates above are totals / MeasuredS
	MeasuredS                            float64 // seconds: sum of the completed measured rounds' durations
	LatencyPerKeyMs                      float64 // LMCache's avg round time / K
	TimedOut, Failed, Skipped, Missing   int
	WarmupFailed, WarmupTimedOut         int // in the warmup rounds (not in any statistic, but in the verdict)
	Written                              int
	Bytes, Requested                     int64
	ExpectedMaxHitRate, ActualHitRate    float64
	ExpectedHitCount                     int
	KeyP50Ms, KeyP99Ms, KeyMaxMs, KeyAvg float64
}

// Stats computes an operation's statistics under the run's configuration.
func Stats(o *OpResult, c *Config) OpStats {
	k := c.KeysPerRound()
	m := o.Measured()
	s := OpStats{Op: o.Op, Rounds: len(m), KeysPerRound: k, TotalKeys: k * len(m), Aggregate: c.Mode == Window}
	for _, r := range o.Rounds {
		if r.Warmup {
			s.WarmupFailed += r.Failed
			s.WarmupTimedOut += b2i(r.TimedOut)
		}
	}
	d := make([]float64, 0, len(m))
	var tput, req, ops []float64
	did := 0                 // keys of the completed rounds that did the operation
	var moved, asked float64 // MB moved and asked for in the completed rounds
	for _, r := range m {
		s.TotalSuccess += r.Success
		s.Failed += r.Failed
		s.Skipped += r.Skipped
		s.Missing += r.Missing
		s.Written += r.Written
		s.Bytes += r.Bytes
		s.Requested += r.Requested
		if r.TimedOut {
			s.TimedOut++
			continue
		}
		dur := r.Duration.Seconds()
		s.Completed++
		s.MeasuredS += dur
		d = append(d, dur)
		n := r.did(o.Op)
		did += n
		moved += float64(r.Bytes) / MB
		asked += float64(r.Requested) / MB
		ops = append(ops, rate(float64(n), dur))
		if o.Op != Lookup {
			tput = append(tput, rate(float64(r.Bytes)/MB, dur))
			req = append(req, rate(float64(r.Requested)/MB, dur))
		}
	}
	s.NoData = s.Completed == 0
	s.DurAvg = mean(d)
	s.DurMin, s.DurMax = minMax(d)
	s.DurP50, s.DurP99 = percentile(d, 50), percentile(d, 99)
	s.DurStd = stdev(d)
	s.TputMin, s.TputMax = minMax(tput)
	if s.Aggregate {
		s.OpsAvg = total(float64(did), s.MeasuredS, s.Completed)
		if o.Op != Lookup {
			s.TputAvg = total(moved, s.MeasuredS, s.Completed)
			s.ReqTputAvg = total(asked, s.MeasuredS, s.Completed)
		}
	} else {
		s.TputAvg, s.ReqTputAvg, s.OpsAvg = mean(tput), mean(req), mean(ops)
	}
	if k > 0 {
		s.LatencyPerKeyMs = s.DurAvg / float64(k) * 1000
	}
	if o.Op == Lookup {
		s.ExpectedMaxHitRate = c.HitRate
		// Not double-scaled (LMCache: × rounds/(warmup+rounds) again), and
		// over the rounds that were measured, not the --rounds flag.
		s.ExpectedHitCount = c.hitsPerRound() * len(m)
		if s.TotalKeys > 0 {
			s.ActualHitRate = float64(s.TotalSuccess) / float64(s.TotalKeys)
		}
	}
	if o.Latency.TotalCount() > 0 {
		s.KeyP50Ms = float64(o.Latency.ValueAtQuantile(50)) / 1e6
		s.KeyP99Ms = float64(o.Latency.ValueAtQuantile(99)) / 1e6
		s.KeyMaxMs = float64(o.Latency.Max()) / 1e6
	}
	return s
}

// did is how many of the round's keys did the operation: written (store),
// looked up, found or not (lookup), loaded (load).
func (r *Round) did(op Op) int {
	switch op {
	case Store:
		return r.Written
	case Lookup:
		return r.Success + r.Missing
	}
	return r.Success
}

// total is x per second over the measured seconds d of n rounds: 0 without
// a round, +Inf for d ≤ 0 as rate.
func total(x, d float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return rate(x, d)
}

// rate is x per second over d seconds; +Inf for d ≤ 0 as LMCache.
func rate(x, d float64) float64 {
	if d <= 0 {
		return math.Inf(1)
	}
	return x / d
}

// rateLabels are the labels of the rate fields: LMCache's in wave mode
// (means of per-round rates), saying what they are in window mode (totals
// over the measured time; min and max per round).
var rateLabels = [...]struct{ tput, tputMin, tputMax, ops, req string }{
	Wave: {"Throughput avg (MB/s)", "Throughput min (MB/s)", "Throughput max (MB/s)", "Avg ops/s", "Requested throughput avg (MB/s)"},
	Window: {"Throughput, total/time (MB/s)", "Throughput min, per round (MB/s)", "Throughput max, per round (MB/s)",
		"Ops/s, total/time", "Requested throughput, total/time (MB/s)"},
}

// Document builds the summary: LMCache's sections and fields (docs/l2-bench.md, "Summary"),
// then lmfast's own fields in each section and a closing Result section.
func Document(res *Result, status string) []Section {
	c := res.Config
	k := c.KeysPerRound()
	cfg := Section{Key: "config", Label: "Configuration"}
	cfg.add("l2_adapter_json", "L2 adapter JSON", c.Spec.Raw)
	cfg.add("num_keys", "Keys / submit", int64(c.NumKeys))
	cfg.add("in_flight", "In-flight / round", int64(c.InFlight))
	cfg.add("keys_per_round", "Keys / round", int64(k))
	cfg.add("data_size_kb", "Data size / key (KB)", int64(c.Payload/1024))
	cfg.add("data_per_round_mb", "Data / round (MB)", pyfmt.Round(float64(k)*float64(c.Payload)/MB, 2))
	if c.Mode == Window { // rounds are counted per operation; the flag only sizes the --only key range
		cfg.add("measurement_rounds", "--rounds (window: key range only)", int64(c.Rounds))
	} else {
		cfg.add("measurement_rounds", "Measurement rounds", int64(c.Rounds))
	}
	cfg.add("warmup_rounds", "Warmup rounds", int64(c.Warmup))
	for _, op := range c.Ops {
		if op == Lookup {
			cfg.add("lookup_max_hit_rate", "Lookup max hit rate", pyfmt.Round(c.HitRate, 4))
		}
	}
	cfg.add("mode", "Mode", c.Mode.String())
	if c.Mode == Window {
		cfg.add("duration_s", "Duration / operation (s)", c.Duration.Seconds())
	}
	engine := fmt.Sprintf("%s x %d", res.Engine, res.Workers)
	if res.StoreWorkers > 0 && res.StoreWorkers < res.Workers {
		engine += fmt.Sprintf(" (buffered stores: %d at once)", res.StoreWorkers)
	}
	cfg.add("io_engine", "I/O engine", engine)
	cfg.add("buffers", "Buffers", res.Buffers.String())
	doc := []Section{cfg}
	for i, o := range res.Ops {
		st := Stats(o, c)
		lb := rateLabels[c.Mode]
		s := Section{Key: "op_" + strconv.Itoa(i), Label: o.Op.Label()}
		nd := st.NoData
		s.add("operation", "Operation", o.Op.Label())
		s.add("rounds", "Rounds", int64(st.Rounds))
		s.add("rounds_timed_out", "Rounds timed out", int64(st.TimedOut))
		s.add("keys_per_round", "Keys / round", int64(k))
		s.add("total_keys", "Total keys", int64(st.TotalKeys))
		s.add("total_success", "Total success", int64(st.TotalSuccess))
		s.addMeasured("duration_avg_ms", "Duration avg (ms)", pyfmt.Round(st.DurAvg*1000, 2), nd)
		s.addMeasured("duration_min_ms", "Duration min (ms)", pyfmt.Round(st.DurMin*1000, 2), nd)
		s.addMeasured("duration_max_ms", "Duration max (ms)", pyfmt.Round(st.DurMax*1000, 2), nd)
		s.addMeasured("duration_p50_ms", "Duration p50 (ms)", pyfmt.Round(st.DurP50*1000, 2), nd)
		s.addMeasured("duration_p99_ms", "Duration p99 (ms)", pyfmt.Round(st.DurP99*1000, 2), nd)
		s.addMeasured("duration_std_ms", "Duration std (ms)", pyfmt.Round(st.DurStd*1000, 2), nd)
		s.addMeasured("throughput_avg_mbps", lb.tput, pyfmt.Round(st.TputAvg, 2), nd)
		s.addMeasured("throughput_min_mbps", lb.tputMin, pyfmt.Round(st.TputMin, 2), nd)
		s.addMeasured("throughput_max_mbps", lb.tputMax, pyfmt.Round(st.TputMax, 2), nd)
		s.addMeasured("ops_per_sec_avg", lb.ops, pyfmt.Round(st.OpsAvg, 2), nd)
		s.addMeasured("latency_per_key_ms", "Avg latency / key (ms)", pyfmt.Round(st.LatencyPerKeyMs, 3), nd)
		if o.Op == Lookup && c.HitRate > 0 {
			s.add("expected_max_hit_rate", "Expected max hit rate", pyfmt.Round(st.ExpectedMaxHitRate, 4))
			s.add("expected_hit_count", "Expected hit keys", int64(st.ExpectedHitCount))
			s.add("actual_hit_rate", "Actual hit rate", pyfmt.Round(st.ActualHitRate, 4))
		}
		if o.Op != Lookup {
			s.add("bytes_requested", "Bytes requested", st.Requested)
			s.add("bytes_transferred", "Bytes transferred", st.Bytes)
			s.addMeasured("throughput_requested_avg_mbps", lb.req, pyfmt.Round(st.ReqTputAvg, 2), nd)
		}
		if st.Aggregate {
			s.addMeasured("measured_time_s", "Measured time (s)", pyfmt.Round(st.MeasuredS, 3), nd)
		}
		if st.Aggregate && o.Op == Load {
			s.add("reread_keys", "Re-read keys (wrapped)", o.Rereads)
		}
		if o.Op == Store {
			s.add("skipped_existing", "Skipped, file existed", int64(st.Skipped))
		}
		if o.Op == Load && c.Spec.Eviction.Policy != "" {
			s.add("evicted_misses", "Evicted misses", int64(st.Missing))
		}
		s.add("failed_keys", "Failed keys", int64(st.Failed))
		s.add("warmup_failed_keys", "Failed warmup keys", int64(st.WarmupFailed))
		s.add("warmup_timed_out_rounds", "Timed-out warmup rounds", int64(st.WarmupTimedOut))
		s.add("key_latency_p50_ms", "Key latency p50 (ms)", pyfmt.Round(st.KeyP50Ms, 3))
		s.add("key_latency_p99_ms", "Key latency p99 (ms)", pyfmt.Round(st.KeyP99Ms, 3))
		s.add("key_latency_max_ms", "Key latency max (ms)", pyfmt.Round(st.KeyMaxMs, 3))
		doc = append(doc, s)
	}
	if res.Capacity != nil {
		doc = append(doc, capacitySection(res.Capacity))
	}
	result := Section{Key: "result", Label: "Result"}
	switch v := res.Verify; {
	case v == nil && !c.Verify:
		result.add("verify", "Verify", "skipped")
	case v == nil:
		result.add("verify", "Verify", "not run (needs a load)")
	case v.Mismatches == 0 && v.Evicted > 0:
		result.add("verify", "Verify", fmt.Sprintf("OK (%d keys, %d evicted not checked)", v.Checked, v.Evicted))
	case v.Mismatches == 0:
		result.add("verify", "Verify", fmt.Sprintf("OK (%d keys)", v.Checked))
	default:
		result.add("verify", "Verify", fmt.Sprintf("MISMATCH (%d/%d keys)", v.Mismatches, v.Checked))
	}
	result.add("status", "Status", status)
	return append(doc, result)
}

// capacitySection is lmfast's account of the adapter's capacity: its
// accounting under LMCache's names (max_capacity_bytes, total_bytes_used,
// usage_fraction as report_status gives them; eviction_policy,
// trigger_watermark, eviction_ratio as the eviction controller's status),
// the evictions, the start-up recovery, and what the *.data files in
// base_path add up to when the summary was made.
func capacitySection(cs *CapacityStats) Section {
	s := Section{Key: "l2_capacity", Label: "L2 capacity"}
	s.add("max_capacity_bytes", "Capacity (bytes)", cs.CapacityBytes)
	s.add("total_bytes_used", "Bytes used, accounted", cs.UsedBytes)
	s.add("usage_fraction", "Usage fraction", pyfmt.Round(cs.UsageFraction(), 4))
	s.add("keys_accounted", "Keys accounted", cs.Keys)
	if cs.ScanErr != "" {
		s.add("bytes_on_disk", "Bytes on disk (*.data)", nil)
		s.add("files_on_disk", "Files on disk (*.data)", nil)
	} else {
		s.add("bytes_on_disk", "Bytes on disk (*.data)", cs.DiskBytes)
		s.add("files_on_disk", "Files on disk (*.data)", cs.DiskFiles)
	}
	policy := cs.Eviction.Policy
	if policy == "" {
		policy = "none"
	}
	s.add("eviction_policy", "Eviction policy", policy)
	if cs.Eviction.Policy != "" {
		s.add("trigger_watermark", "Trigger watermark", cs.Eviction.TriggerWatermark)
		s.add("eviction_ratio", "Eviction ratio", cs.Eviction.EvictionRatio)
	}
	enforced := "no (usage accounting only)"
	if cs.Enforced {
		enforced = "yes"
	}
	s.add("capacity_enforced", "Capacity enforced", enforced)
	s.add("evictions", "Evicted keys", cs.Evictions)
	s.add("evicted_bytes", "Evicted bytes", cs.EvictedBytes)
	s.add("eviction_runs", "Eviction runs", cs.EvictionRuns)
	if cs.UnlinkFailures > 0 {
		s.add("eviction_unlink_failures", "Eviction unlink failures", cs.UnlinkFailures)
	}
	if cs.Recovery.Scanned {
		s.add("recovered_keys", "Recovered at start (keys)", cs.Recovery.Keys)
		s.add("recovered_bytes", "Recovered at start (bytes)", cs.Recovery.Bytes)
		s.add("recover_skipped_entries", "Skipped at start (entries)", cs.Recovery.Skipped)
	}
	return s
}

// RenderTerminal renders sections as LMCache's TerminalFormatter (width
// 64): title centred in '=', headers in '-', "label:" and the value
// right-aligned, floats with 2 decimals. It ends with a newline.
func RenderTerminal(doc []Section) string {
	var b strings.Builder
	b.WriteString(center(" "+Title+" ", '='))
	b.WriteByte('\n')
	for _, s := range doc {
		b.WriteString(center(" "+s.Label+" ", '-'))
		b.WriteByte('\n')
		for _, e := range s.Entries {
			v := terminalValue(e.Value)
			label := e.Label + ":"
			pad := max(1, Width-utf8.RuneCountInString(label)-utf8.RuneCountInString(v))
			b.WriteString(label)
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	b.WriteString(strings.Repeat("=", Width))
	b.WriteByte('\n')
	return b.String()
}

// center is Python's str.center(Width, fill): the left margin is
// marg/2 + (marg & Width & 1), which for the even Width is marg/2.
func center(s string, fill byte) string {
	n := utf8.RuneCountInString(s)
	if n >= Width {
		return s
	}
	marg := Width - n
	left := marg/2 + (marg & Width & 1)
	return strings.Repeat(string(fill), left) + s + strings.Repeat(string(fill), marg-left)
}

func terminalValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "N/A"
	case float64:
		if math.IsInf(x, 1) {
			return "inf"
		}
		if math.IsNaN(x) {
			return "nan"
		}
		return strconv.FormatFloat(x, 'f', 2, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// RenderJSON renders sections as LMCache's JsonFormatter (json.dumps,
// indent 2): {"title": ..., "metrics": {"<section>": {...}}}, floats in
// Python's repr with a decimal point, non-ASCII escaped. Unlike LMCache it
// is valid JSON: an infinite value (a round of zero duration) is null. It
// ends with a newline.
func RenderJSON(doc []Section) string {
	var b strings.Builder
	b.WriteString("{\n  \"title\": ")
	b.WriteString(pyJSONString(Title))
	b.WriteString(",\n  \"metrics\": {")
	for i, s := range doc {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.WriteString(pyJSONString(s.Key))
		b.WriteString(": {")
		for j, e := range s.Entries {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n      ")
			b.WriteString(pyJSONString(e.Key))
			b.WriteString(": ")
			b.WriteString(jsonValue(e.Value))
		}
		if len(s.Entries) > 0 {
			b.WriteString("\n    ")
		}
		b.WriteByte('}')
	}
	if len(doc) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("}\n}\n")
	return b.String()
}

func jsonValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "null"
		}
		return pyfmt.Float(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return pyJSONString(x)
	}
	return pyJSONString(fmt.Sprint(v))
}

// pyJSONString is json.dumps of a str with ensure_ascii (LMCache's
// JsonFormatter): ", \ and the control characters escaped, and everything
// outside printable ASCII (' '..'~', so U+007F too) as lower-case \uXXXX,
// with surrogate pairs above U+FFFF. A byte that is not part of valid UTF-8
// is written as the lone surrogate \udcXX Python's argv and environment
// decoding (surrogateescape) turns it into. The result is pure ASCII.
func pyJSONString(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 2)
	u := func(v rune) {
		b.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			b.WriteByte(hex[v>>shift&0xF])
		}
	}
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			u(0xDC00 + rune(s[i]))
			i++
			continue
		}
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= ' ' && r <= '~':
				b.WriteByte(byte(r))
			case r <= 0xFFFF:
				u(r)
			default:
				r -= 0x10000
				u(0xD800 + r>>10)
				u(0xDC00 + r&0x3FF)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
