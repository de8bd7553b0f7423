package scrape

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Sample is one reading of the counters.
type Sample struct {
	At            time.Time
	PullFrames    int64 // frames received on the PULL socket
	ReplyMessages int64 // messages received on the reply and heartbeat sockets
}

// Delta is what the controller received since the baseline.
type Delta struct {
	At            time.Time
	Elapsed       time.Duration // since the baseline
	PullFrames    int64
	ReplyMessages int64
	// Restarts counts the times a count was seen going down: the
	// controller restarted, and what it received between the last reading
	// before and its restart is in no count.
	Restarts int
}

// Scraper reads one controller's counters.
type Scraper struct {
	url    string
	client *http.Client

	since      time.Time // when the baseline was read
	base, last Sample
	carried    Sample // counted before restarts (PullFrames, ReplyMessages)
	restarts   int
	started    bool
}

// New returns a Scraper of the /metrics page at rawURL (http or https),
// each request bounded by timeout.
func New(rawURL string, timeout time.Duration) (*Scraper, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controller metrics URL %q: want http://host:port/metrics", rawURL)
	}
	return &Scraper{url: rawURL, client: &http.Client{Timeout: timeout}}, nil
}

// URL returns the page scraped.
func (s *Scraper) URL() string { return s.url }

// Read scrapes the page once and returns the counters as they stand.
func (s *Scraper) Read(ctx context.Context) (Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return Sample{}, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := s.client.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("controller metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("controller metrics %s: HTTP %s", s.url, resp.Status)
	}
	at := time.Now()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Sample{}, fmt.Errorf("controller metrics %s: %w", s.url, err)
	}
	pull, err := total(families, PullFramesMetric)
	if err != nil {
		return Sample{}, fmt.Errorf("controller metrics %s: %w", s.url, err)
	}
	reply, err := total(families, ReplyMessagesMetric)
	if err != nil {
		return Sample{}, fmt.Errorf("controller metrics %s: %w", s.url, err)
	}
	return Sample{At: at, PullFrames: pull, ReplyMessages: reply}, nil
}

// KeysMetric is LMCache's gauge of the keys the controller holds.
const KeysMetric = "lmcache:cache_controller_kv_pool_keys_count"

// Keys scrapes the page once and returns the controller's key count.
func (s *Scraper) Keys(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("controller metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("controller metrics %s: HTTP %s", s.url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, fmt.Errorf("controller metrics %s: %w", s.url, err)
	}
	return total(families, KeysMetric)
}

// Baseline reads the counters and makes them the zero of later deltas.
func (s *Scraper) Baseline(ctx context.Context) (Sample, error) {
	smp, err := s.Read(ctx)
	if err != nil {
		return Sample{}, err
	}
	s.since, s.base, s.last, s.carried, s.restarts, s.started = smp.At, smp, smp, Sample{}, 0, true
	return smp, nil
}

// Delta reads the counters and returns what the controller received since
// the baseline (read first if Baseline was not called). After a restart
// the delta adds what was counted up to the last reading before it to
// what the restarted controller counted since.
func (s *Scraper) Delta(ctx context.Context) (Delta, error) {
	if !s.started {
		if _, err := s.Baseline(ctx); err != nil {
			return Delta{}, err
		}
	}
	smp, err := s.Read(ctx)
	if err != nil {
		return Delta{}, err
	}
	if smp.PullFrames < s.last.PullFrames || smp.ReplyMessages < s.last.ReplyMessages {
		s.restarts++
		s.carried.PullFrames += s.last.PullFrames - s.base.PullFrames
		s.carried.ReplyMessages += s.last.ReplyMessages - s.base.ReplyMessages
		s.base = Sample{} // a restarted controller counts from zero
	}
	s.last = smp
	return Delta{At: smp.At, Elapsed: smp.At.Sub(s.since),
		PullFrames:    s.carried.PullFrames + smp.PullFrames - s.base.PullFrames,
		ReplyMessages: s.carried.ReplyMessages + smp.ReplyMessages - s.base.ReplyMessages,
		Restarts:      s.restarts}, nil
}

// WaitPull reads deltas every poll until the controller has received at
// least want PULL frames since the baseline, or until timeout. It returns
// the last delta and whether want was reached; an error only when the last
// reading failed.
func (s *Scraper) WaitPull(ctx context.Context, want int64, timeout, poll time.Duration) (Delta, bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		d, err := s.Delta(ctx)
		if err == nil && d.PullFrames >= want {
			return d, true, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return d, false, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
}

// Reconciliation compares what lmfast sent with what the controller
// counted.
type Reconciliation struct {
	Sent, Received int64
	Missing        int64 // Sent - Received (negative: the controller counted more)
	Restarted      bool  // the controller restarted: the counts cannot be compared
	Reconciled     bool  // Sent == Received with no restart
}

// Reconcile compares sent PULL frames (teardown frames included) with a
// delta's.
func Reconcile(sent int64, d Delta) Reconciliation {
	r := Reconciliation{Sent: sent, Received: d.PullFrames, Missing: sent - d.PullFrames, Restarted: d.Restarts > 0}
	r.Reconciled = !r.Restarted && r.Missing == 0
	return r
}

// String says what a reconciliation found, in one line.
func (r Reconciliation) String() string {
	switch {
	case r.Restarted:
		return fmt.Sprintf("the controller restarted during the run: sent %d frames, it counted %d across the restart (not comparable)", r.Sent, r.Received)
	case r.Reconciled:
		return fmt.Sprintf("reconciled: sent %d frames, the controller received %d", r.Sent, r.Received)
	case r.Missing > 0:
		return fmt.Sprintf("not reconciled: sent %d frames, the controller received %d (%d missing)", r.Sent, r.Received, r.Missing)
	}
	return fmt.Sprintf("not reconciled: sent %d frames, the controller received %d (%d more than sent: another sender?)", r.Sent, r.Received, -r.Missing)
}

// The controller's received-message gauges, as LMCache declares them in
// lmcache/v1/cache_controller/observability.py (PrometheusLogger) and
// counts them in lmcache/v1/cache_controller/controller_manager.py:
// handle_batched_push_request adds len(parts) of each PULL multipart
// message on receipt; handle_batched_req_request and
// handle_heartbeat_request add one per ROUTER message.
const (
	PullFramesMetric    = "lmcache:cache_controller_pull_socket_message_count"
	ReplyMessagesMetric = "lmcache:cache_controller_reply_socket_message_count"
)

// maxBody bounds a /metrics page read.
const maxBody = 32 << 20

// total sums the samples of a gauge, counter or untyped family (one per
// label set; LMCache's has one, role="controller").
func total(families map[string]*dto.MetricFamily, name string) (int64, error) {
	f, ok := families[name]
	if !ok || len(f.GetMetric()) == 0 {
		return 0, fmt.Errorf("no %s (is this a LMCache controller's /metrics?)", name)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		switch {
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetUntyped() != nil:
			sum += m.GetUntyped().GetValue()
		default:
			return 0, fmt.Errorf("%s is a %s, not a count", name, f.GetType())
		}
	}
	if math.IsNaN(sum) || sum < 0 || sum > math.MaxInt64/2 {
		return 0, fmt.Errorf("%s = %v is not a count", name, sum)
	}
	return int64(math.Round(sum)), nil
}
