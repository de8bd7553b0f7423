package main

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"testing"
)

// percentile is the q-quantile of sorted values as an HDR histogram reads
// it: the smallest value with at least q·n values at or below it.
func percentile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// stallWindow is one stall of the controller's reply socket as it logged
// it: the loop answered nothing from served (its last answer before the
// stall) to end, so a request sent in between was answered at end.
type stallWindow struct{ served, end float64 } // Unix ns

// lookup is one request of the run: when the schedule meant it to go
// (Unix ns) and its measured round trip when the controller was not
// stalled (µs).
type lookup struct{ scheduled, service float64 }

// expectedLatencies returns the latency in µs, from its scheduled time,
// that each request of one sender with one request lane has against a
// controller that stalls as logged: a request goes when it is due or when
// the previous one completed, whichever is later; one sent while the
// controller was stalled completes half a round trip (rtt µs) after the
// stall's end; any other completes its own measured round trip after it
// went.
func expectedLatencies(reqs []lookup, stalls []stallWindow, rtt float64) []float64 {
	out := make([]float64, len(reqs))
	free := math.Inf(-1) // when the lane is free again
	for i, r := range reqs {
		sent := max(r.scheduled, free)
		done := sent + r.service*1e3
		for _, st := range stalls {
			if sent >= st.served && sent < st.end {
				done = st.end + rtt*1e3/2
				break
			}
		}
		free = done
		out[i] = (done - r.scheduled) / 1e3
	}
	return out
}

// TestCoordinatedOmissionCorrected: at a fixed --rate of lookups on one
// lane against a controller that stops answering for 1 s every 3 s
// (--inject-stall), the corrected p99 and p99.9 are within 10 % of the
// values expected from the schedule (request k due k ms after the first)
// and the stalls the controller logged (when each actually ended, and
// when it last answered before it, not the nominal windows): a request
// is late by the time it waits behind the stall and the round trips
// queued before it. The uncorrected (service) ones, which only the one
// request sent into each stall sees, are not. The stalls are long beside
// what a loaded machine adds on its own: a process not scheduled for tens
// of milliseconds when a stall ends delays every request queued behind
// it, which no log of the controller's can predict.
func TestCoordinatedOmissionCorrected(t *testing.T) {
	const rate = 1000
	srv := startServerProcess(t, "--pull-port", "0", "--reply-port", "0", "--heartbeat-port=-1",
		"--inject-stall", "1s", "--stall-every", "3s")
	code, stderr, ls := runLmfast(t, "--monitor-ports", srv.monitorPorts(), "--operations", "p2p_lookup:100",
		"--rate", strconv.Itoa(rate), "--senders", "1", "--concurrency", "1", "--duration", "10", "--no-register-first",
		"--num-instances", "4", "--num-hashes", "10", "--raw", "--warmup", "0", "--late-grace", "60s")
	lines := srv.stop(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var stalls []stallWindow
	for _, l := range lines {
		if l["event"] == "stall" && l["socket"] == "reply" {
			served, _ := l["served_unix_ns"].(json.Number).Float64()
			end, _ := l["end_unix_ns"].(json.Number).Float64()
			stalls = append(stalls, stallWindow{served, end})
		}
	}
	var reqs []lookup
	var service []float64
	var summary map[string]any
	for _, l := range ls {
		switch {
		case l["event"] == "sample" && l["ok"] == true:
			reqs = append(reqs, lookup{l["intended_ns"].(float64), l["service_us"].(float64)})
			service = append(service, l["service_us"].(float64))
		case l["event"] == "summary" && l["op"] == "p2p_lookup":
			summary = l
		}
	}
	if len(stalls) < 2 || summary == nil || summary["errors"] != 0.0 || float64(len(reqs)) != summary["requests"] {
		t.Fatalf("%d stalls, %d samples; summary %v", len(stalls), len(reqs), summary)
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].scheduled < reqs[j].scheduled })
	for k := range reqs {
		reqs[k].scheduled = reqs[0].scheduled + float64(k)*1e9/rate
	}
	sort.Float64s(service)
	rtt := percentile(service, 0.5)
	expected := expectedLatencies(reqs, stalls, rtt)
	sort.Float64s(expected)
	corrected := summary["corrected_us"].(map[string]any)
	uncorrected := summary["latency_us"].(map[string]any)
	for _, p := range []struct {
		key string
		q   float64
	}{{"p99", 0.99}, {"p999", 0.999}} {
		want := percentile(expected, p.q)
		got, svc := corrected[p.key].(float64), uncorrected[p.key].(float64)
		t.Logf("%s: expected %.0f µs, corrected %.0f µs (%+.1f %%), service %.0f µs (%+.1f %%); %d stalls, %d lookups, median round trip %.0f µs",
			p.key, want, got, 100*(got/want-1), svc, 100*(svc/want-1), len(stalls), len(reqs), rtt)
		if math.Abs(got/want-1) > 0.10 {
			t.Errorf("corrected %s %.0f µs is not within 10 %% of the expected %.0f µs", p.key, got, want)
		}
		if math.Abs(svc/want-1) <= 0.10 {
			t.Errorf("service %s %.0f µs is within 10 %% of the expected %.0f µs: the stalls are not omitted from it", p.key, svc, want)
		}
	}
}
