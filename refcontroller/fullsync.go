package refcontroller

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lmfast/lmfast/wire"
)

// Full-sync defaults of LMCache's controller (controller_manager.py,
// full_sync_tracker.py, cache_controller/config.py).
const (
	// DefaultSyncThreshold is full_sync_completion_threshold: the share of
	// workers ready before any may exit freeze mode.
	DefaultSyncThreshold = 0.8
	// DefaultWorkerTimeout is lmcache_worker_timeout.
	DefaultWorkerTimeout = 300 * time.Second
	// workerListTTL is how long the tracker's list of workers is reused
	// (TTLListCache's default): a worker registered since is not counted
	// in the progress until the list is read again.
	workerListTTL = 30 * time.Second
)

// syncState is LMCache's FullSyncState.
type syncState int32

const (
	syncIdle syncState = iota
	syncSyncing
	syncCompleted
	syncFailed
)

// syncInfo is LMCache's WorkerSyncInfo: one worker's full-sync session.
type syncInfo struct {
	id              string
	state           syncState
	start, activity time.Time
	expectedKeys    int64
	expectedBatches int64
	received        map[int64]struct{}
	receivedKeys    int64
}

// workerSync is the full-sync part of a worker; worker.mu guards info.
type workerSync struct {
	info *syncInfo
}

// tracker is LMCache's FullSyncTracker: which workers must full-sync,
// their sessions' progress, and when freeze mode may end.
// needAll starts true (a controller that starts asks every worker for a
// full sync) and turns false the first time can_exit_freeze finds the
// threshold reached, which only a FullSyncStatusMsg asks.
type tracker struct {
	reg       *registry
	threshold float64
	needAll   atomic.Bool

	listMu sync.Mutex
	list   []*worker // the cached worker list (get_all_worker_nodes_cached)
	listAt time.Time
	clock  func() time.Time
}

func newTracker(reg *registry, threshold float64) *tracker {
	if threshold <= 0 {
		threshold = DefaultSyncThreshold
	}
	t := &tracker{reg: reg, threshold: threshold, clock: time.Now}
	t.needAll.Store(true)
	return t
}

// workers returns the worker list, read again once workerListTTL passed.
func (t *tracker) workers() []*worker {
	t.listMu.Lock()
	defer t.listMu.Unlock()
	now := t.clock()
	if t.list == nil || now.Sub(t.listAt) > workerListTTL {
		t.list = t.reg.all()
		t.listAt = now
	}
	return t.list
}

// shouldRequest is should_request_full_sync for a registered worker: the
// reason of the FullSyncCommand its heartbeat reply carries, or "".
func (t *tracker) shouldRequest(w *worker) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	info := w.fs.info
	if t.needAll.Load() && (info == nil || info.state != syncSyncing && info.state != syncCompleted) {
		return "controller_restart"
	}
	if info != nil && info.state == syncFailed {
		return "sync_failed_retry"
	}
	return ""
}

// syncRejected is FullSyncStartRetMsg.error_msg when a start is refused.
const syncRejected = "Failed to start sync: worker already syncing with different sync_id or worker not found"

// start is handle_full_sync_start: a new SYNCING session (refused while
// another session of the worker is syncing, or for an unknown worker),
// then the location's keys and sequence tracker are cleared if it held
// keys there.
func (s *Server) startSync(m *wire.FullSyncStartMsg) []byte {
	w := s.reg.lookup(workerKey{m.InstanceID, m.WorkerID})
	accepted := false
	if w != nil {
		now := time.Now()
		w.mu.Lock()
		if old := w.fs.info; old == nil || old.state != syncSyncing || old.id == m.SyncID {
			w.fs.info = &syncInfo{id: m.SyncID, state: syncSyncing, start: now, activity: now,
				expectedKeys: m.TotalKeys, expectedBatches: m.BatchCount, received: map[int64]struct{}{}}
			accepted = true
		}
		w.mu.Unlock()
	}
	if !accepted {
		s.c.syncStartsRejected.Add(1)
		s.log.warn("sync_start_rejected", "Failed to start sync", fmt.Sprintf("(%s, %d) sync_id=%s", m.InstanceID, m.WorkerID, m.SyncID))
		return wire.FullSyncStartRetMsg{SyncID: m.SyncID, Accepted: false, ErrorMsg: wire.Str(syncRejected)}.AppendMsgpack(nil)
	}
	s.c.syncStarts.Add(1)
	w.clearLocationIfHeld(m.Location)
	return wire.FullSyncStartRetMsg{SyncID: m.SyncID, Accepted: true}.AppendMsgpack(nil)
}

// clearLocationIfHeld drops a location's keys and its sequence tracker
// when it holds keys (clear_worker_kv runs only if get_worker_kv_keys is
// not empty).
func (w *worker) clearLocationIfHeld(location string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set, ok := w.kv[location]
	if !ok || set.len() == 0 {
		return
	}
	delete(w.kv, location)
	delete(w.seq, location)
	for i, l := range w.locations {
		if l == location {
			w.locations = append(w.locations[:i], w.locations[i+1:]...)
			break
		}
	}
}

// syncBatch is handle_full_sync_batch: recorded against the worker's
// SYNCING session with the same sync_id, then its keys are admitted
// without sequence checks; otherwise ignored with a warning.
func (s *Server) syncBatch(m *wire.FullSyncBatchMsg) {
	w := s.reg.lookup(workerKey{m.InstanceID, m.WorkerID})
	ok := false
	if w != nil {
		w.mu.Lock()
		if info := w.fs.info; info != nil && info.id == m.SyncID && info.state == syncSyncing {
			info.received[m.BatchID] = struct{}{}
			info.receivedKeys += int64(len(m.Keys))
			info.activity = time.Now()
			ok = true
		}
		w.mu.Unlock()
	}
	if !ok {
		s.c.syncBatchesRejected.Add(1)
		s.log.warn("sync_batch_rejected", "Failed to record full sync batch", fmt.Sprintf("(%s, %d) sync_id=%s batch %d", m.InstanceID, m.WorkerID, m.SyncID, m.BatchID))
		return
	}
	s.c.syncBatches.Add(1)
	if len(m.Keys) == 0 {
		return
	}
	ops := make([]wire.KVOpEvent, len(m.Keys))
	for i, k := range m.Keys {
		ops[i] = wire.KVOpEvent{OpType: wire.OpAdmit, Key: k, SeqNum: int64(i)}
	}
	w.mu.Lock()
	w.applyLocked(m.Location, ops, false)
	w.mu.Unlock()
	s.c.syncKeys.Add(int64(len(m.Keys)))
}

// syncEnd is handle_full_sync_end: the session with that sync_id is
// COMPLETED whatever it was (a key count that differs is only a warning).
func (s *Server) syncEnd(m *wire.FullSyncEndMsg) {
	w := s.reg.lookup(workerKey{m.InstanceID, m.WorkerID})
	ok, mismatch := false, false
	if w != nil {
		w.mu.Lock()
		if info := w.fs.info; info != nil && info.id == m.SyncID {
			mismatch = info.receivedKeys != m.ActualTotalKeys
			info.state = syncCompleted
			info.activity = time.Now()
			ok = true
		}
		w.mu.Unlock()
	}
	if !ok {
		s.c.syncEndsRejected.Add(1)
		s.log.warn("sync_end_rejected", "Failed to complete full sync", fmt.Sprintf("(%s, %d) sync_id=%s", m.InstanceID, m.WorkerID, m.SyncID))
		return
	}
	if mismatch {
		s.log.warn("sync_key_mismatch", "Key count mismatch on completion", fmt.Sprintf("(%s, %d) reported=%d", m.InstanceID, m.WorkerID, m.ActualTotalKeys))
	}
	s.c.syncCompleted.Add(1)
}

// syncStatus is handle_full_sync_status (get_sync_status): whether this
// session completed, the global progress, whether freeze may end (which
// ends the controller's request of a full sync from everyone once the
// threshold is reached) and the batches still missing.
func (s *Server) syncStatus(m *wire.FullSyncStatusMsg) []byte {
	ret := wire.FullSyncStatusRetMsg{SyncID: m.SyncID, MissingBatches: []int64{}}
	w := s.reg.lookup(workerKey{m.InstanceID, m.WorkerID})
	var info syncInfo
	var have bool
	if w != nil {
		w.mu.Lock()
		if w.fs.info != nil {
			info, have = *w.fs.info, true
			info.received = w.fs.info.missing() // only read below while SYNCING
		}
		w.mu.Unlock()
	}
	ret.IsComplete = have && info.id == m.SyncID && info.state == syncCompleted
	ret.GlobalProgress = s.track.progress()
	ret.CanExitFreeze = s.track.canExitFreeze(ret.GlobalProgress)
	if have && info.id == m.SyncID && info.state == syncSyncing {
		for b := range info.received {
			ret.MissingBatches = append(ret.MissingBatches, b)
		}
		sort.Slice(ret.MissingBatches, func(i, j int) bool { return ret.MissingBatches[i] < ret.MissingBatches[j] })
	}
	return ret.AppendMsgpack(nil)
}

// missing returns the batch ids of range(expected_batch_count) not received.
func (i *syncInfo) missing() map[int64]struct{} {
	out := map[int64]struct{}{}
	for b := int64(0); b < i.expectedBatches; b++ {
		if _, ok := i.received[b]; !ok {
			out[b] = struct{}{}
		}
	}
	return out
}

// progress is get_global_progress: the share of the (cached) workers that
// are ready, i.e. have no session or a COMPLETED one; 0 without workers.
func (t *tracker) progress() float64 {
	ws := t.workers()
	if len(ws) == 0 {
		return 0
	}
	ready := 0
	for _, w := range ws {
		w.mu.Lock()
		if w.fs.info == nil || w.fs.info.state == syncCompleted {
			ready++
		}
		w.mu.Unlock()
	}
	return float64(ready) / float64(len(ws))
}

// canExitFreeze is can_exit_freeze: progress reached the threshold; the
// first time it does, the controller stops asking every worker to sync.
func (t *tracker) canExitFreeze(progress float64) bool {
	can := progress >= t.threshold
	if can {
		t.needAll.Store(false)
	}
	return can
}

// SyncStatus is the full-sync state of the controller's workers, as the
// real controller's full_sync_* gauges report it.
type SyncStatus struct {
	NeedAll   bool    // every worker is still asked for a full sync (controller_restart)
	Syncing   int     // workers with a SYNCING session
	Completed int     // workers whose last session COMPLETED
	Progress  float64 // full_sync_global_progress
}

// SyncStatus returns the workers' full-sync states (over the tracker's
// cached worker list, as LMCache's gauges).
func (s *Server) SyncStatus() SyncStatus {
	st := SyncStatus{NeedAll: s.track.needAll.Load(), Progress: s.track.progress()}
	for _, w := range s.track.workers() {
		w.mu.Lock()
		if info := w.fs.info; info != nil {
			switch info.state {
			case syncSyncing:
				st.Syncing++
			case syncCompleted:
				st.Completed++
			}
		}
		w.mu.Unlock()
	}
	return st
}

// healthLoop is the controller's health check: every interval, workers
// whose last heartbeat (or registration) is older than timeout are
// deregistered with all their keys.
func (s *Server) healthLoop(interval, timeout time.Duration) {
	defer s.loops.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		for _, w := range s.reg.all() {
			w.mu.Lock()
			last := w.lastHeartbeat
			w.mu.Unlock()
			if time.Since(last) <= timeout {
				continue
			}
			s.log.warn("worker_timeout", "Worker last heartbeat more than timeout ago", fmt.Sprintf("(%s, %d) timeout %s", w.key.instance, w.key.worker, timeout))
			if s.reg.deregister(w.key) {
				s.c.timedOut.Add(1)
			}
		}
	}
}
