package wire

import "slices"

// InstanceEncoder writes the BatchedKVOperationMsg and BatchedP2PLookupMsg
// frames of every worker of one instance: the bytes up to the worker id
// are encoded once, the worker id and the location per frame. One encoder
// serves any number of workers and locations, so a simulated worker costs
// no encoder of its own. It never allocates beyond growing dst and is safe
// for concurrent use (read-only after creation).
type InstanceEncoder struct {
	kvHead  []byte // map header .. instance_id's value, "worker_id"
	p2pTail []byte // "instance_id", its value, "worker_id"
}

// NewInstanceEncoder pre-encodes the constant bytes of instanceID's frames.
func NewInstanceEncoder(instanceID string) *InstanceEncoder {
	str := len(appendStr(nil, instanceID))
	kv := make([]byte, 0, 1+len(kType)+len(tBatchedKVOperationMsg)+len(kInstanceID)+str+len(kWorkerID))
	kv = append(kv, 0x85)
	kv = append(kv, kType...)
	kv = append(kv, tBatchedKVOperationMsg...)
	kv = append(kv, kInstanceID...)
	kv = appendStr(kv, instanceID)
	kv = append(kv, kWorkerID...)
	// The p2p tail is the end of the KV head: instance_id's key and value,
	// worker_id's key.
	p2p := kv[len(kv)-len(kInstanceID)-str-len(kWorkerID):]
	return &InstanceEncoder{kvHead: slices.Clip(kv), p2pTail: slices.Clip(p2p)}
}

// AppendKeys appends the BatchedKVOperationMsg of worker workerID at
// location whose operations are all op, on keys[i] with sequence number
// firstSeq+i: the bytes of NewBatchEncoder(instance, workerID,
// location).AppendKeys.
func (e *InstanceEncoder) AppendKeys(dst []byte, workerID int64, location string, op OpType, keys []Int, firstSeq int64) []byte {
	dst = slices.Grow(dst, len(e.kvHead)+9+len(kLocation)+5+len(location)+len(kOperations)+keyOpsMaxLen(len(keys)))
	dst = append(dst, e.kvHead...)
	dst = appendInt(dst, workerID)
	dst = append(dst, kLocation...)
	dst = appendStr(dst, location)
	dst = append(dst, kOperations...)
	switch op {
	case OpAdmit:
		return appendKeyOps(dst, &admitPrefix, keys, firstSeq)
	case OpEvict:
		return appendKeyOps(dst, &evictPrefix, keys, firstSeq)
	}
	dst = appendArrayHeader(dst, len(keys))
	for i, k := range keys {
		dst = appendOp(dst, op, k, firstSeq+int64(i))
	}
	return dst
}

// AppendP2P appends worker workerID's BatchedP2PLookupMsg for hashes: the
// bytes of NewP2PEncoder(instance, workerID).Append.
func (e *InstanceEncoder) AppendP2P(dst []byte, workerID int64, hashes []Int) []byte {
	dst = append(dst, p2pHead...)
	dst = appendArrayHeader(dst, len(hashes))
	for _, h := range hashes {
		dst = h.AppendMsgpack(dst)
	}
	dst = append(dst, e.p2pTail...)
	return appendInt(dst, workerID)
}
