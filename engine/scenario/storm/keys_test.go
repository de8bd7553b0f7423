package storm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lmfast/lmfast/engine/scrape"
)

// controllerPages serves a controller's /metrics (keys gauge 7, pull and
// reply counters) and /controller/key-stats by statsPage; it counts the
// key-stats requests.
func controllerPages(t *testing.T, statsPage http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var statsReads atomic.Int64
	metrics := fmt.Sprintf("# TYPE %s gauge\n%s 7\n", scrape.KeysMetric, scrape.KeysMetric)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/controller/key-stats" && statsPage != nil {
			statsReads.Add(1)
			statsPage(w, r)
			return
		}
		if r.URL.Path == "/controller/key-stats" {
			statsReads.Add(1)
		}
		fmt.Fprint(w, metrics) // every other path, as a bare metrics server
	}))
	t.Cleanup(srv.Close)
	return srv, &statsReads
}

func externalKeys(t *testing.T, srv *httptest.Server) (KeyReader, string) {
	t.Helper()
	m, err := scrape.New(srv.URL+"/metrics?x=1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return ExternalKeys(m)
}

// TestExternalKeysPrefersKeyStats: a controller serving
// /controller/key-stats has its total_key_count read there, at every
// reading, and keys_from names both pages.
func TestExternalKeysPrefersKeyStats(t *testing.T) {
	srv, reads := controllerPages(t, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"total_key_count": 42, "other": [1, 2]}`)
	})
	keys, from := externalKeys(t, srv)
	if want := srv.URL + "/controller/key-stats (else " + srv.URL + "/metrics?x=1)"; from != want {
		t.Errorf("keys_from %q, want %q", from, want)
	}
	for range 2 {
		if n, err := keys(context.Background()); n != 42 || err != nil {
			t.Fatalf("keys %d, %v; want 42 from key-stats", n, err)
		}
	}
	if reads.Load() != 2 {
		t.Errorf("key-stats read %d times, want 2", reads.Load())
	}
}

// TestExternalKeysFallsBackToGauge: without /controller/key-stats (404,
// or a server answering every path with /metrics) the count is the
// gauge's, and key-stats is not asked again.
func TestExternalKeysFallsBackToGauge(t *testing.T) {
	for name, page := range map[string]http.HandlerFunc{
		"404":     http.NotFound,
		"metrics": nil,
	} {
		srv, reads := controllerPages(t, page)
		keys, _ := externalKeys(t, srv)
		for range 3 {
			if n, err := keys(context.Background()); n != 7 || err != nil {
				t.Fatalf("%s: keys %d, %v; want the gauge's 7", name, n, err)
			}
		}
		if reads.Load() != 1 {
			t.Errorf("%s: key-stats read %d times, want once", name, reads.Load())
		}
	}
}

// TestKeyStatsServerError: a key-stats page failing otherwise is an error
// of that reading, not a reason to read the gauge.
func TestKeyStatsServerError(t *testing.T) {
	srv, reads := controllerPages(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	keys, _ := externalKeys(t, srv)
	for range 2 {
		if _, err := keys(context.Background()); err == nil || errors.Is(err, ErrNoKeyStats) || !strings.Contains(err.Error(), "503") {
			t.Fatalf("error %v, want the HTTP 503", err)
		}
	}
	if reads.Load() != 2 {
		t.Errorf("key-stats read %d times, want 2", reads.Load())
	}
	if _, err := KeyStats(srv.URL + "/controller/key-stats")(context.Background()); err == nil {
		t.Error("KeyStats: no error on HTTP 503")
	}
}

// TestCommandRestarter: the restart command runs to its end with its
// output on the log, and its failure is the restart's error.
func TestCommandRestarter(t *testing.T) {
	var log bytes.Buffer
	if err := Command("echo restarting; echo warn >&2", &log)(context.Background()); err != nil {
		t.Fatal(err)
	}
	if log.String() != "restarting\nwarn\n" {
		t.Errorf("log %q", log.String())
	}
	if err := Command("exit 3", &log)(context.Background()); err == nil || err.Error() != "--restart-cmd: exit status 3" {
		t.Errorf("error %v, want --restart-cmd: exit status 3", err)
	}
}
