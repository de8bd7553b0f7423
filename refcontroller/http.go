package refcontroller

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metric names of LMCache's controller (docs/protocol.md, "Metrics") and lmfast's own.
const (
	realPrefix = "lmcache:cache_controller_"
	ownPrefix  = "lmfast_controller_"
)

// realLabels are the labels LMCache's controller puts on its gauges.
var realLabels = prometheus.Labels{"role": "controller"}

// startHTTP serves /metrics, /controller/key-stats and /controller/workers.
func (s *Server) startHTTP(port int) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.Host, strconv.Itoa(port)))
	if err != nil {
		return 0, &BindError{Socket: "http", Port: port, Err: err}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metricsGatherer(), promhttp.HandlerOpts{}))
	mux.HandleFunc("/controller/key-stats", s.keyStats)
	mux.HandleFunc("/controller/workers", s.workers)
	s.http = &http.Server{Handler: mux}
	go func() { _ = s.http.Serve(ln) }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// metricsGatherer exposes the counters as Prometheus metrics: the real
// controller's gauge names first, then lmfast's exact counters.
//
// The real names keep LMCache's semantics (lmcache/v1/cache_controller/
// observability.py declares them as gauges labelled role="controller";
// controller_manager.py sets them): pull_socket_message_count adds every
// frame of each PULL multipart message as it is received, before decoding;
// reply_socket_message_count adds one per ROUTER message on the reply and
// heartbeat sockets, before checking that it has three frames.
//
// Every metric of one scrape reads one Counters snapshot, taken when the
// scrape starts: the registered workers and keys are a walk over the whole
// registry, once per scrape and not once per metric, and the figures of
// one page are of one instant.
func (s *Server) metricsGatherer() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	var (
		mu   sync.Mutex // one scrape at a time: snap is the scrape's
		snap Counters
	)
	gauge := func(name, help string, f func(Counters) float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: realLabels},
			func() float64 { return f(snap) }))
	}
	counter := func(name, help string, f func(Counters) float64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return f(snap) }))
	}
	gauge(realPrefix+"kv_pool_keys_count", "Keys held over all workers and locations.", func(c Counters) float64 { return float64(c.Keys) })
	gauge(realPrefix+"registered_workers_count", "Registered workers.", func(c Counters) float64 { return float64(c.Registered) })
	gauge(realPrefix+"pull_socket_message_count", "Frames read from the PULL socket.", func(c Counters) float64 { return float64(c.PullFrames) })
	gauge(realPrefix+"reply_socket_message_count", "Messages read from the reply and heartbeat sockets.", func(c Counters) float64 {
		return float64(c.ReplyRequests + c.HeartbeatRequests + c.ShortRequests)
	})
	gauge(realPrefix+"kv_op_seq_discontinuity_count", "Batches with a sequence discontinuity.", func(c Counters) float64 { return float64(c.SeqDiscontinuity) })
	syncGauge := func(name, help string, f func(SyncStatus) float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: realLabels},
			func() float64 { return f(s.SyncStatus()) }))
	}
	syncGauge(realPrefix+"full_sync_workers_syncing", "Workers in a full sync.", func(st SyncStatus) float64 { return float64(st.Syncing) })
	syncGauge(realPrefix+"full_sync_workers_completed", "Workers whose full sync completed.", func(st SyncStatus) float64 { return float64(st.Completed) })
	syncGauge(realPrefix+"full_sync_global_progress", "Share of workers ready (no sync or sync completed).", func(st SyncStatus) float64 { return st.Progress })

	for _, m := range []struct {
		name, help string
		f          func(Counters) int64
	}{
		{"pull_frames_total", "Frames read from the PULL socket.", func(c Counters) int64 { return c.PullFrames }},
		{"pull_messages_total", "Multipart messages read from the PULL socket.", func(c Counters) int64 { return c.PullMessages }},
		{"pull_decode_errors_total", "PULL frames that did not decode.", func(c Counters) int64 { return c.PullDecodeErrors }},
		{"batches_applied_total", "BatchedKVOperationMsg applied.", func(c Counters) int64 { return c.Batches }},
		{"kv_ops_applied_total", "KV operations applied.", func(c Counters) int64 { return c.KVOpsApplied }},
		{"admits_applied_total", "Admit operations applied.", func(c Counters) int64 { return c.Admits }},
		{"evicts_applied_total", "Evict operations applied.", func(c Counters) int64 { return c.Evicts }},
		{"batches_dropped_unregistered_total", "Batches dropped because the worker was not registered.", func(c Counters) int64 { return c.DroppedBatches }},
		{"kv_ops_dropped_unregistered_total", "KV operations in those batches.", func(c Counters) int64 { return c.DroppedKVOps }},
		{"router_requests_total", "Requests on the reply socket.", func(c Counters) int64 { return c.ReplyRequests }},
		{"heartbeat_requests_total", "Requests on the heartbeat socket.", func(c Counters) int64 { return c.HeartbeatRequests }},
		{"router_short_messages_total", "ROUTER messages with fewer than 3 frames.", func(c Counters) int64 { return c.ShortRequests }},
		{"router_decode_errors_total", "ROUTER payloads that did not decode.", func(c Counters) int64 { return c.RouterDecodeErrors }},
		{"replies_total", "Replies sent.", func(c Counters) int64 { return c.Replies }},
		{"error_replies_total", "ErrorMsg replies sent.", func(c Counters) int64 { return c.ErrorReplies }},
		{"injected_drops_total", "PULL frames dropped unread by --inject-drop (a test aid).", func(c Counters) int64 { return c.InjectedDrops }},
		{"full_sync_commands_total", "Heartbeat replies carrying a FullSyncCommand.", func(c Counters) int64 { return c.SyncCommands }},
		{"full_sync_starts_total", "FullSyncStartMsg accepted.", func(c Counters) int64 { return c.SyncStarts }},
		{"full_sync_starts_rejected_total", "FullSyncStartMsg refused.", func(c Counters) int64 { return c.SyncStartsRejected }},
		{"full_sync_batches_total", "FullSyncBatchMsg recorded and applied.", func(c Counters) int64 { return c.SyncBatches }},
		{"full_sync_batches_rejected_total", "FullSyncBatchMsg for no syncing session.", func(c Counters) int64 { return c.SyncBatchesRejected }},
		{"full_sync_keys_total", "Keys admitted by full-sync batches.", func(c Counters) int64 { return c.SyncKeys }},
		{"full_sync_completed_total", "Full syncs completed by FullSyncEndMsg.", func(c Counters) int64 { return c.SyncCompleted }},
		{"batches_discarded_syncing_total", "Batches discarded while their worker was in a full sync.", func(c Counters) int64 { return c.SyncDiscardedBatches }},
		{"kv_ops_discarded_syncing_total", "KV operations in those batches.", func(c Counters) int64 { return c.SyncDiscardedKVOps }},
		{"workers_timed_out_total", "Workers deregistered by the health check.", func(c Counters) int64 { return c.TimedOut }},
	} {
		counter(ownPrefix+m.name, m.help, func(c Counters) float64 { return float64(m.f(c)) })
	}
	reg.MustRegister(typeCollector{&snap})
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mu.Lock()
		defer mu.Unlock()
		snap = s.Counters()
		return reg.Gather()
	})
}

// typeCollector reports lmfast_controller_messages_total{type="..."} from
// the scrape's snapshot.
type typeCollector struct{ snap *Counters }

var typeDesc = prometheus.NewDesc(ownPrefix+"messages_total", "Decoded messages per class, all sockets.", []string{"type"}, nil)

func (t typeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- typeDesc }

func (t typeCollector) Collect(ch chan<- prometheus.Metric) {
	c := *t.snap
	for _, name := range c.typeNames() {
		ch <- prometheus.MustNewConstMetric(typeDesc, prometheus.CounterValue, float64(c.ByType[name]), name)
	}
}

// instanceKeyStats and keyStatsResponse have the shape of the real API's
// /controller/key-stats.
type instanceKeyStats struct {
	InstanceID  string `json:"instance_id"`
	KeyCount    int    `json:"key_count"`
	WorkerCount int    `json:"worker_count"`
}

type keyStatsResponse struct {
	TotalKeyCount      int                `json:"total_key_count"`
	TotalInstanceCount int                `json:"total_instance_count"`
	TotalWorkerCount   int                `json:"total_worker_count"`
	Instances          []instanceKeyStats `json:"instances"`
}

func (s *Server) keyStats(w http.ResponseWriter, _ *http.Request) {
	out := keyStatsResponse{Instances: []instanceKeyStats{}}
	for _, inst := range s.reg.instances() {
		st := instanceKeyStats{InstanceID: inst.id, WorkerCount: len(inst.workers)}
		for _, wk := range inst.workers {
			st.KeyCount += wk.keyCount()
		}
		out.TotalKeyCount += st.KeyCount
		out.TotalWorkerCount += st.WorkerCount
		out.Instances = append(out.Instances, st)
	}
	out.TotalInstanceCount = len(out.Instances)
	writeJSON(w, out)
}

// workerInfo is one worker as the real API's WorkerInfoResponse
// (lmcache/v1/internal_api_server/controller/worker_info_api.py).
type workerInfo struct {
	InstanceID        string  `json:"instance_id"`
	WorkerID          int64   `json:"worker_id"`
	IP                string  `json:"ip"`
	Port              int64   `json:"port"`
	PeerInitURL       *string `json:"peer_init_url"`
	RegistrationTime  float64 `json:"registration_time"`
	LastHeartbeatTime float64 `json:"last_heartbeat_time"`
	KeyCount          int     `json:"key_count"`
}

// workerList is the real API's WorkerListResponse.
type workerList struct {
	Workers    []workerInfo `json:"workers"`
	TotalCount int          `json:"total_count"`
}

func infoOf(w *worker) workerInfo {
	w.mu.Lock()
	hb := w.lastHeartbeat
	w.mu.Unlock()
	return workerInfo{InstanceID: w.key.instance, WorkerID: w.key.worker, IP: w.ip, Port: w.port, PeerInitURL: w.peerInitURL,
		RegistrationTime: unixSeconds(w.registeredAt), LastHeartbeatTime: unixSeconds(hb), KeyCount: w.keyCount()}
}

// workers answers GET /controller/workers as the real API does: with
// instance_id and worker_id, that worker (404 if unknown); with
// instance_id, its workers (404 if the instance is unknown); otherwise
// every worker (a worker_id alone is ignored). A worker_id that is not an
// integer is FastAPI's 422.
func (s *Server) workers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	instID, hasInst := q.Get("instance_id"), q.Has("instance_id")
	var workerID int64
	hasWorker := q.Has("worker_id")
	if hasWorker {
		v, err := strconv.ParseInt(q.Get("worker_id"), 10, 64)
		if err != nil {
			writeStatus(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{{
				"type": "int_parsing", "loc": []string{"query", "worker_id"},
				"msg": "Input should be a valid integer, unable to parse string as an integer", "input": q.Get("worker_id")}}})
			return
		}
		workerID = v
	}
	switch {
	case hasInst && hasWorker:
		wk := s.reg.lookup(workerKey{instID, workerID})
		if wk == nil {
			writeStatus(w, http.StatusNotFound, map[string]string{"detail": fmt.Sprintf("Worker (%s, %d) not found", instID, workerID)})
			return
		}
		writeJSON(w, infoOf(wk))
	case hasInst:
		for _, inst := range s.reg.instances() {
			if inst.id == instID {
				out := workerList{Workers: []workerInfo{}}
				for _, wk := range inst.workers {
					out.Workers = append(out.Workers, infoOf(wk))
				}
				out.TotalCount = len(out.Workers)
				writeJSON(w, out)
				return
			}
		}
		writeStatus(w, http.StatusNotFound, map[string]string{"detail": "No workers found for instance " + instID})
	default:
		out := workerList{Workers: []workerInfo{}}
		for _, inst := range s.reg.instances() {
			for _, wk := range inst.workers {
				out.Workers = append(out.Workers, infoOf(wk))
			}
		}
		out.TotalCount = len(out.Workers)
		writeJSON(w, out)
	}
}

func writeJSON(w http.ResponseWriter, v any) { writeStatus(w, http.StatusOK, v) }

func writeStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
