package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/shape"
)

// TestControllerShapeFlagErrors: a bad shape, arrival or worker rate, and
// every combination of two flags that set one load, exit 2 at once with
// one line naming the part at fault.
func TestControllerShapeFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--worker-rate", "5", "--rate", "100"}, "--worker-rate and --rate both set the load"},
		{[]string{"--worker-rate", "5", "--sweep", "rate=100,200"}, "--worker-rate and --sweep both set the load"},
		{[]string{"--worker-rate", "5", "--rate-schedule", "const:100"}, "--worker-rate and --rate-schedule both set the load"},
		{[]string{"--worker-rate=-1"}, "--worker-rate must not be negative"},
		{[]string{"--worker-rate", "NaN"}, "--worker-rate"},
		{[]string{"--arrival", "uniform"}, "--arrival needs --worker-rate"},
		{[]string{"--worker-rate", "5", "--arrival", "bursty"}, `--arrival: "bursty" is not an arrival process (poisson, uniform)`},
		{[]string{"--rate-schedule", "const:5", "--rate", "5"}, "--rate-schedule sets the rate over time: leave out --rate"},
		{[]string{"--rate-schedule", "const:5", "--sweep", "rate=1,2"}, "--rate-schedule and --sweep both set the load over time"},
		{[]string{"--concurrency-schedule", "const:5", "--sweep", "concurrency=1,2"}, "--concurrency-schedule and --sweep both set the load over time"},
		{[]string{"--concurrency-schedule", "const:5", "--concurrency", "3"}, "--concurrency-schedule sets the request lanes over time: leave out --concurrency"},
		{[]string{"--concurrency-schedule", "ramp:1->8:5s", "--operations", "admit:100"}, "--concurrency-schedule sets request lanes, but --operations has no request op"},
		{[]string{"--rate-schedule", "const:5", "--slo", "errors<1%"}, "--slo needs --sweep"},
		{[]string{"--rate-schedule", "5000"}, `--rate-schedule "5000": want KIND:ARGS`},
		{[]string{"--rate-schedule", "ramp:1000->x:30s"}, `--rate-schedule "ramp:1000->x:30s": "x" is not a number`},
		{[]string{"--rate-schedule", "ramp:1000-20000:30s"}, `"1000-20000:30s" is not FROM->TO:DURATION`},
		{[]string{"--rate-schedule", "step:1000,5000@1O"}, `"1O" is not a positive duration`},
		{[]string{"--rate-schedule", "step:1000@10s,5000"}, `"5000" has no @DURATION`},
		{[]string{"--rate-schedule", "sine:mean=5000,amp=6000,period=20s"}, `"amp=6000" takes the target below 0`},
		{[]string{"--rate-schedule", "sine:mean=5000,period=20s"}, "sine needs amp="},
		{[]string{"--rate-schedule", "saw:5"}, `"saw" is not a shape (const, step, ramp, sine)`},
		{[]string{"--rate-schedule", "step:0,0@1s"}, "every rate is 0"},
		{[]string{"--concurrency-schedule", "ramp:0->8:5s"}, `--concurrency-schedule "ramp:0->8:5s": "0" is below 1 request lane`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			start := time.Now()
			code := run(append([]string{"controller", "--embedded", "--no-headroom", "--duration", "1"}, tc.args...), strings.NewReader(""), &out, &errb)
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitBadInput, errb.String())
			}
			msg := errb.String()
			if !strings.Contains(msg, tc.want) || !strings.HasPrefix(msg, "lmfast: ") {
				t.Fatalf("stderr %q does not contain %q", msg, tc.want)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 || strings.Contains(msg, "goroutine") {
				t.Fatalf("error is not one line: %q", msg)
			}
			if out.Len() != 0 {
				t.Fatalf("wrote output before refusing: %q", out.String())
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("took %v to fail", el)
			}
		})
	}
}

// intervalsAll returns the run's interval lines of op "all".
func intervalsAll(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range events(lines, "interval") {
		if l["op"] == "all" {
			out = append(out, l)
		}
	}
	return out
}

// TestControllerRateScheduleTargets: every interval line of a ramp carries
// target_rps, the ramp's mean over that interval (every op's line too);
// the summary's target is the ramp's mean over the run and its due count
// the ramp's integral; the config line names the schedule.
func TestControllerRateScheduleTargets(t *testing.T) {
	const spec = "ramp:100->500:2s"
	sh, err := shape.Parse(spec, shape.Rate)
	if err != nil {
		t.Fatal(err)
	}
	code, lines, stderr := runController(t, "--embedded", "--no-headroom", "--duration", "2", "--warmup", "0.5", "--interval", "0.25",
		"--late-grace", "10", "--operations", "admit:80,p2p_lookup:20", "--rate-schedule", spec)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := events(lines, "config")[0]
	if cfg["rate_schedule"] != spec || cfg["worker_rate"] != 0.0 || cfg["concurrency_schedule"] != "" {
		t.Fatalf("config line: rate_schedule %v, worker_rate %v, concurrency_schedule %v", cfg["rate_schedule"], cfg["worker_rate"], cfg["concurrency_schedule"])
	}
	ivs := events(lines, "interval")
	if len(intervalsAll(lines)) < 8 {
		t.Fatalf("%d interval lines of op all, want 8 or more", len(intervalsAll(lines)))
	}
	for _, iv := range ivs {
		b := num(t, iv, "t_s")
		a := b - num(t, iv, "interval_s")
		if got, want := num(t, iv, "target_rps"), sh.Mean(a, b); math.Abs(got-want) > 1e-6*want {
			t.Fatalf("interval [%.3f, %.3f] op %v: target_rps %g, the ramp's mean %g", a, b, iv["op"], got, want)
		}
		if _, ok := iv["target_concurrency"]; ok {
			t.Fatalf("target_concurrency without a concurrency schedule: %v", iv)
		}
	}
	sum := summaries(lines)["all"]
	if got, want := num(t, sum, "target_rps"), sh.Mean(0, 2); math.Abs(got-want) > 1e-6*want {
		t.Fatalf("summary target_rps %g, the ramp's mean %g", got, want)
	}
	if got, want := num(t, sum, "due"), sh.Integral(2); math.Abs(got-want) > 2 {
		t.Fatalf("due %g, the ramp's integral %g", got, want)
	}
	if num(t, sum, "dropped") != 0 || num(t, sum, "sent") != num(t, sum, "due") {
		t.Fatalf("sent %v, dropped %v, due %v", sum["sent"], sum["dropped"], sum["due"])
	}
}

// TestControllerWorkerRateAndConcurrencySchedule: --worker-rate's interval
// and summary lines carry the offered load, workers × R; a concurrency
// schedule's interval lines carry target_concurrency, its mean over each.
func TestControllerWorkerRateAndConcurrencySchedule(t *testing.T) {
	code, lines, stderr := runController(t, "--embedded", "--no-headroom", "--duration", "1.5", "--warmup", "0", "--interval", "0.5",
		"--num-instances", "30", "--num-workers", "2", "--worker-rate", "4", "--arrival", "uniform",
		"--operations", "admit:50,p2p_lookup:50", "--concurrency-schedule", "step:1,3@0.75s", "--late-grace", "10")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg := events(lines, "config")[0]
	if cfg["worker_rate"] != 4.0 || cfg["arrival"] != "uniform" || cfg["concurrency_schedule"] != "step:1,3@0.75s" || cfg["concurrency"] != 3.0 {
		t.Fatalf("config line: worker_rate %v arrival %v concurrency_schedule %v concurrency %v", cfg["worker_rate"], cfg["arrival"], cfg["concurrency_schedule"], cfg["concurrency"])
	}
	sh, _ := shape.Parse("step:1,3@0.75s", shape.Concurrency)
	for _, iv := range intervalsAll(lines) {
		b := num(t, iv, "t_s")
		a := b - num(t, iv, "interval_s")
		if got := num(t, iv, "target_rps"); got != 240 {
			t.Fatalf("interval at %.3f: target_rps %g, want 60 workers × 4 = 240", b, got)
		}
		if got, want := num(t, iv, "target_concurrency"), sh.Mean(a, b); math.Abs(got-want) > 1e-6*want {
			t.Fatalf("interval [%.3f, %.3f]: target_concurrency %g, the schedule's mean %g", a, b, got, want)
		}
	}
	sum := summaries(lines)["all"]
	if num(t, sum, "target_rps") != 240 || num(t, sum, "dropped") != 0 {
		t.Fatalf("summary: target_rps %v dropped %v", sum["target_rps"], sum["dropped"])
	}
	// Uniform arrivals: 60 workers, each 4/s over 1.5 s, is 6 each: 360.
	if got := num(t, sum, "due"); got != 360 {
		t.Fatalf("due %g, want 60 workers × 4/s × 1.5 s = 360", got)
	}
}
