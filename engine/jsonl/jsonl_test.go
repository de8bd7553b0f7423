package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lmfast/lmfast/engine"
	"github.com/lmfast/lmfast/engine/scrape"
	"github.com/lmfast/lmfast/engine/slo"
	"github.com/lmfast/lmfast/stats"
	"github.com/lmfast/lmfast/stream"
)

func hist(values ...int64) *hdrhistogram.Histogram {
	h := stats.NewHistogram()
	for _, v := range values {
		_ = h.RecordValue(v)
	}
	return h
}

// keys returns the keys of one JSON line in the order written.
func keys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %q", line)
	}
	var out []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func split(t *testing.T, b *bytes.Buffer) ([]string, []map[string]any) {
	t.Helper()
	raw := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	parsed, err := stream.ParseLines(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return raw, parsed
}

const lead = "time event run proc cmd "

// TestIntervalLines: one line per op in the order of the schema, then op
// "all"; the per-op lines carry the interval's own histograms, which
// decode to what was measured.
func TestIntervalLines(t *testing.T) {
	var b bytes.Buffer
	r := New(stream.New(&b, "controller", "r"))
	svc, cor := hist(1000, 2000, 3000), hist(5000, 9000, 40000)
	r.Interval(&engine.Interval{End: 2 * time.Second, Length: 500 * time.Millisecond, Ops: []engine.OpInterval{
		{Op: engine.OpAdmit, Requests: 3, Messages: 30, Service: svc, Corrected: cor},
		{Op: engine.OpP2PLookup, Requests: 0, Errors: 1, Service: hist(), Corrected: hist()},
	}})
	raw, ls := split(t, &b)
	if len(ls) != 3 {
		t.Fatalf("%d lines:\n%s", len(ls), b.String())
	}
	want := lead + "op t_s interval_s requests messages errors rps qps latency_us corrected_us hdr hdr_corrected"
	if got := strings.Join(keys(t, raw[0]), " "); got != want {
		t.Errorf("interval keys\n%s\nwant\n%s", got, want)
	}
	if got := strings.Join(keys(t, raw[2]), " "); got != lead+"op t_s interval_s requests messages errors rps qps" {
		t.Errorf("interval all keys %s", got)
	}
	a, all := ls[0], ls[2]
	if a["op"] != "admit" || a["t_s"] != 2.0 || a["rps"] != 6.0 || a["latency_us"].(map[string]any)["count"] != 3.0 {
		t.Errorf("admit line %v", a)
	}
	for key, h := range map[string]*hdrhistogram.Histogram{"hdr": svc, "hdr_corrected": cor} {
		got, err := stats.Decode(a[key].(string))
		if err != nil || !got.Equals(h) {
			t.Errorf("%s does not decode to the interval's histogram: %v", key, err)
		}
	}
	if all["op"] != "all" || all["requests"] != 3.0 || all["errors"] != 1.0 || all["qps"] != 60.0 {
		t.Errorf("all line %v", all)
	}

	b.Reset()
	r.Interval(&engine.Interval{Step: 4, End: time.Second, Length: time.Second, Ops: []engine.OpInterval{{Op: engine.OpAdmit, Service: hist()}},
		Received: &engine.Received{Frames: 900, Backlog: 12, Span: 3 * time.Second}})
	raw, ls = split(t, &b)
	if got := strings.Join(keys(t, raw[0]), " "); got != lead+"op t_s interval_s requests messages errors rps qps latency_us hdr step" {
		t.Errorf("closed-loop step interval keys %s", got)
	}
	if all := ls[1]; all["step"] != 4.0 || all["received_frames"] != 900.0 || all["received_fps"] != 300.0 || all["backlog_frames"] != 12.0 {
		t.Errorf("all line %v", all)
	}

	// The first reading (no span), after a restart; then a failed one.
	for _, rc := range []*engine.Received{{Frames: 5, Backlog: 1, Restarts: 1}, {Err: errors.New("connection refused")}} {
		b.Reset()
		r.Interval(&engine.Interval{End: time.Second, Length: time.Second, Ops: []engine.OpInterval{{Op: engine.OpAdmit, Service: hist()}},
			Received: rc})
		raw, ls = split(t, &b)
		want := lead + "op t_s interval_s requests messages errors rps qps received_frames backlog_frames controller_restarts"
		if rc.Err != nil {
			want = lead + "op t_s interval_s requests messages errors rps qps received_error"
		}
		if got := strings.Join(keys(t, raw[1]), " "); got != want {
			t.Errorf("all keys\n%s\nwant\n%s", got, want)
		}
	}
}

// TestIntervalTargets: the targets in force are on every interval line,
// op "all" included, only when set.
func TestIntervalTargets(t *testing.T) {
	var b bytes.Buffer
	r := New(stream.New(&b, "controller", "r"))
	r.Interval(&engine.Interval{End: time.Second, Length: time.Second, TargetRate: 1234.5, TargetConcurrency: 2.5,
		Ops: []engine.OpInterval{{Op: engine.OpP2PLookup, Service: hist(), Corrected: hist()}}})
	raw, ls := split(t, &b)
	if got := strings.Join(keys(t, raw[0]), " "); !strings.HasSuffix(got, "hdr_corrected target_rps target_concurrency") {
		t.Errorf("op keys %s", got)
	}
	if got := strings.Join(keys(t, raw[1]), " "); got != lead+"op t_s interval_s requests messages errors rps qps target_rps target_concurrency" {
		t.Errorf("all keys %s", got)
	}
	for _, l := range ls {
		if l["target_rps"] != 1234.5 || l["target_concurrency"] != 2.5 {
			t.Errorf("targets %v %v, want 1234.5 2.5", l["target_rps"], l["target_concurrency"])
		}
	}
	b.Reset()
	r.Interval(&engine.Interval{End: time.Second, Length: time.Second, TargetRate: 10,
		Ops: []engine.OpInterval{{Op: engine.OpAdmit, Service: hist(), Corrected: hist()}}})
	_, ls = split(t, &b)
	for _, l := range ls {
		if _, ok := l["target_concurrency"]; ok || l["target_rps"] != 10.0 {
			t.Errorf("rate only: %v", l)
		}
	}
}

// TestSummaryLines: the keys of the summary lines in the schema's order,
// optional ones only when set.
func TestSummaryLines(t *testing.T) {
	mix, _ := engine.ParseOperations("admit:50,p2p_lookup:50")
	res := &engine.Result{Config: engine.ReportConfig{Mix: mix}, Elapsed: 2 * time.Second, Drained: true,
		Ops: []engine.OpResult{{Op: engine.OpAdmit, Requests: 4, Messages: 40, Service: hist(10)}, {Op: engine.OpP2PLookup, Requests: 2, Service: hist(20)}}}
	var b bytes.Buffer
	r := New(stream.New(&b, "controller", "r"))
	r.Summary(res)
	raw, ls := split(t, &b)
	if got := strings.Join(keys(t, raw[0]), " "); got != lead+"op requests messages errors duration_s rps qps latency_kind latency_us hdr sent" {
		t.Errorf("op keys %s", got)
	}
	if ls[0]["latency_kind"] != "enqueue" || ls[1]["latency_kind"] != "round_trip" {
		t.Errorf("latency kinds %v %v", ls[0]["latency_kind"], ls[1]["latency_kind"])
	}
	want := lead + "op requests messages errors duration_s rps qps push_frames_sent kv_ops_sent push_bytes_sent teardown_frames_sent " +
		"registered register_failed register_s teardown_s sender_cpus process_cpu_s process_cpu_util drained drain_ms interrupted sent warmup_s"
	if got := strings.Join(keys(t, raw[2]), " "); got != want {
		t.Errorf("all keys\n%s\nwant\n%s", got, want)
	}

	// An open loop that dropped most of what was due, with --fail-if.
	res.OpenLoop, res.TargetRate, res.Due, res.Warmup = true, 100, 200, time.Second
	res.Ops[0].Corrected, res.Ops[1].Corrected = hist(10), hist(20)
	res.Ops[0].Sent, res.Ops[0].Dropped, res.Ops[1].Sent, res.Ops[1].Dropped = 4, 96, 2, 98
	spec, err := slo.Parse("p2p_lookup.p99<1ms,dropped<1%", engine.SLOOps(mix))
	if err != nil {
		t.Fatal(err)
	}
	res.FailIf = slo.Evaluate(spec, res.Observed())
	b.Reset()
	r.Summary(res)
	raw, ls = split(t, &b)
	if got := strings.Join(keys(t, raw[1]), " "); !strings.HasSuffix(got, "corrected_us hdr_corrected sent due dropped") {
		t.Errorf("open-loop op keys %s", got)
	}
	all := ls[2]
	if all["due"] != 200.0 || all["sent"] != 6.0 || all["dropped"] != 194.0 || all["limited_by"] != engine.LimitedByUndetermined ||
		all["warmup_s"] != 1.0 || all["fail_if_pass"] != false || all["target_rps"] != 100.0 {
		t.Errorf("open-loop all line %v", all)
	}
	terms := all["fail_if"].([]any)
	if len(terms) != 2 || terms[0].(map[string]any)["pass"] != true || terms[1].(map[string]any)["term"] != "dropped<1%" ||
		terms[1].(map[string]any)["pass"] != false || terms[1].(map[string]any)["value"] != 97.0 {
		t.Errorf("fail_if %v", terms)
	}

	// The reconciliation with the controller's counts, then one whose
	// final reading failed.
	res.Intake = &engine.IntakeResult{URL: "http://127.0.0.1:9/metrics", Requests: 7, Restarts: 0,
		Reconciliation: scrape.Reconciliation{Sent: 50, Received: 48, Missing: 2}}
	b.Reset()
	r.Summary(res)
	raw, ls = split(t, &b)
	if got := strings.Join(keys(t, raw[2]), " "); !strings.HasSuffix(got, "controller_metrics reconciled reconcile_scope "+
		"controller_received_frames controller_received_requests frames_missing controller_restarts") {
		t.Errorf("reconciled all keys %s", got)
	}
	if all := ls[2]; all["reconciled"] != false || all["controller_received_frames"] != 48.0 || all["frames_missing"] != 2.0 ||
		all["controller_received_requests"] != 7.0 || all["reconcile_scope"] != engine.ReconcileScope {
		t.Errorf("reconciled all line %v", all)
	}
	res.Intake.Err = errors.New("connection refused")
	b.Reset()
	r.Summary(res)
	raw, ls = split(t, &b)
	if got := strings.Join(keys(t, raw[2]), " "); !strings.HasSuffix(got, "controller_metrics reconciled reconcile_scope controller_metrics_error") {
		t.Errorf("unread all keys %s", got)
	}
}

// TestErrorAndSampleLines: error lines in the order given; sample lines
// rendered whole, one per sample.
func TestErrorAndSampleLines(t *testing.T) {
	var b bytes.Buffer
	r := New(stream.New(&b, "controller", "r"))
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	r.Errors([]engine.ErrorCount{{Op: engine.OpHeartbeat, Text: "x", Count: 3, First: at}, {Op: engine.OpRegister, Text: "y", Count: 1, First: at}})
	if err := r.Samples([]engine.Sample{{Op: engine.OpP2PLookup, OK: true, Intended: 1000, Sent: 2000, Done: 4500}, {Op: engine.OpAdmit, Intended: 1, Sent: 1, Done: 2}}); err != nil {
		t.Fatal(err)
	}
	raw, ls := split(t, &b)
	if len(ls) != 4 || ls[0]["error"] != "x" || ls[0]["count"] != 3.0 || ls[0]["first_at"] != "2026-01-02T03:04:05.000000006Z" || ls[1]["op"] != "register" {
		t.Fatalf("error lines %v", ls[:2])
	}
	if !strings.HasSuffix(raw[2], `"cmd":"controller","op":"p2p_lookup","ok":true,"intended_ns":1000,"sent_ns":2000,"latency_us":3.500,"service_us":2.500}`) {
		t.Errorf("sample line %s", raw[2])
	}
}

// TestStepAndCapacityLines: a step line carries its setting, totals, per-op
// figures with their histograms and its SLO outcome; the capacity line
// names the highest passing and the lowest failing step and the terms that
// failed.
func TestStepAndCapacityLines(t *testing.T) {
	mix, _ := engine.ParseOperations("admit:50,p2p_lookup:50")
	step := func(i int, value float64, p99 int64) *engine.StepResult {
		res := &engine.Result{Config: engine.ReportConfig{Mix: mix}, Elapsed: 2 * time.Second, OpenLoop: true, TargetRate: value, Due: int64(2 * value),
			Ops: []engine.OpResult{
				{Op: engine.OpAdmit, Requests: int64(value), Sent: int64(value), Service: hist(10), Corrected: hist(20)},
				{Op: engine.OpP2PLookup, Requests: int64(value) - 5, Errors: 1, Sent: int64(value) - 4, Dropped: 4, Service: hist(p99), Corrected: hist(p99, p99)}}}
		spec, err := slo.Parse("p2p_lookup.p99<2ms,errors<1%", engine.SLOOps(mix))
		if err != nil {
			t.Fatal(err)
		}
		rs := slo.Evaluate(spec, res.Observed())
		return &engine.StepResult{Index: i, Phase: "coarse", Dim: "rate", Value: value, Rate: value, Concurrency: 2,
			Warmup: time.Second, Result: res, SLO: rs, Pass: rs.Pass()}
	}
	pass, fail := step(1, 1000, 1_000_000), step(2, 2000, 3_000_000)
	var b bytes.Buffer
	r := New(stream.New(&b, "controller", "r"))
	r.Step(fail)
	r.Capacity(&engine.CapacityResult{Dim: "rate", SLO: nil, Precision: 0.05, Steps: 2, Pass: pass, Fail: fail})
	raw, ls := split(t, &b)
	want := lead + "step phase dim value target_rps concurrency warmup_s duration_s requests errors achieved_rps sent due dropped limited_by ops " +
		"process_cpu_s process_cpu_util slo pass"
	if got := strings.Join(keys(t, raw[0]), " "); got != want {
		t.Errorf("step keys\n%s\nwant\n%s", got, want)
	}
	st := ls[0]
	if st["step"] != 2.0 || st["due"] != 4000.0 || st["sent"] != 3996.0 || st["dropped"] != 4.0 || st["pass"] != false || st["achieved_rps"] != 1998.0 {
		t.Errorf("step line %v", st)
	}
	p2p := st["ops"].([]any)[1].(map[string]any)
	if got, err := stats.Decode(p2p["hdr_corrected"].(string)); err != nil || got.TotalCount() != 2 || p2p["dropped"] != 4.0 {
		t.Errorf("step op %v: %v", p2p, err)
	}
	if terms := st["slo"].([]any); terms[0].(map[string]any)["value"] != 3.0 || terms[0].(map[string]any)["pass"] != false {
		t.Errorf("step slo %v", terms)
	}
	c := ls[1]
	if c["found"] != true || c["capacity"] != 1000.0 || c["pass_step"] != 1.0 || c["first_fail"] != 2000.0 || c["fail_step"] != 2.0 ||
		c["failed_terms"].([]any)[0] != "p2p_lookup.p99<2ms" || len(c["fail_slo"].([]any)) != 2 {
		t.Errorf("capacity line %v", c)
	}
}
