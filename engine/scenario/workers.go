package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// workerName is one registered worker as the controller's worker list
// names it.
type workerName struct {
	Instance string `json:"instance_id"`
	Worker   int64  `json:"worker_id"`
}

func (w workerName) String() string { return fmt.Sprintf("(%s, %d)", w.Instance, w.Worker) }

// listWorkers reads GET base/controller/workers (LMCache's
// WorkerListResponse; the reference controller serves it too).
func listWorkers(ctx context.Context, base string) ([]workerName, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/controller/workers", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /controller/workers: %s", resp.Status)
	}
	var list struct {
		Workers []workerName `json:"workers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("GET /controller/workers: %v", err)
	}
	return list.Workers, nil
}

// setDiff returns the names of want missing from got and those of got not
// in want, each sorted.
func setDiff(want, got []workerName) (missing, extra []workerName) {
	in := map[workerName]bool{}
	for _, w := range got {
		in[w] = true
	}
	wanted := map[workerName]bool{}
	for _, w := range want {
		wanted[w] = true
		if !in[w] {
			missing = append(missing, w)
		}
	}
	for _, w := range got {
		if !wanted[w] {
			extra = append(extra, w)
		}
	}
	less := func(s []workerName) func(i, j int) bool {
		return func(i, j int) bool {
			if s[i].Instance != s[j].Instance {
				return s[i].Instance < s[j].Instance
			}
			return s[i].Worker < s[j].Worker
		}
	}
	sort.Slice(missing, less(missing))
	sort.Slice(extra, less(extra))
	return missing, extra
}

// names renders at most n names.
func names(ws []workerName, n int) []string {
	out := []string{}
	for i, w := range ws {
		if i == n {
			out = append(out, fmt.Sprintf("... %d more", len(ws)-n))
			break
		}
		out = append(out, w.String())
	}
	return out
}
