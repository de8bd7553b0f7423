package storm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/lmfast/lmfast/engine/scrape"
)

// KeyReader reads the controller's key count.
type KeyReader func(context.Context) (int64, error)

// KeyStats returns a reader of total_key_count from the /controller/key-stats
// page at page (controller-server, LMCache's API server).
func KeyStats(page string) KeyReader {
	return func(ctx context.Context) (int64, error) { return keyStats(ctx, page) }
}

// ExternalKeys reads an external controller's key count from its
// /controller/key-stats (controller-server, LMCache's API server) when the
// host of --controller-metrics serves it, else from the kv_pool_keys_count
// gauge of --controller-metrics. It also returns where the count is read,
// for the "keys_from" field.
func ExternalKeys(metrics *scrape.Scraper) (KeyReader, string) {
	u, err := url.Parse(metrics.URL())
	if err != nil {
		return metrics.Keys, metrics.URL()
	}
	u.Path, u.RawQuery = "/controller/key-stats", ""
	stats := u.String()
	var mu sync.Mutex
	useStats := true
	return func(ctx context.Context) (int64, error) {
		mu.Lock()
		try := useStats
		mu.Unlock()
		if try {
			n, err := keyStats(ctx, stats)
			if !errors.Is(err, ErrNoKeyStats) {
				return n, err
			}
			mu.Lock()
			useStats = false
			mu.Unlock()
		}
		return metrics.Keys(ctx)
	}, stats + " (else " + metrics.URL() + ")"
}

// ErrNoKeyStats is a controller without /controller/key-stats.
var ErrNoKeyStats = errors.New("no /controller/key-stats")

// keyStats reads total_key_count from a /controller/key-stats page.
func keyStats(ctx context.Context, page string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, ErrNoKeyStats
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: HTTP %s", page, resp.Status)
	}
	var v struct {
		Total int64 `json:"total_key_count"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&v); err != nil {
		return 0, ErrNoKeyStats // e.g. a metrics server that answers every path with /metrics
	}
	return v.Total, nil
}
