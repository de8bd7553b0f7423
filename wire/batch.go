package wire

import (
	"encoding/binary"
	"math"
	"slices"
)

// BatchEncoder writes BatchedKVOperationMsg frames for one
// (instance_id, worker_id, location) with the constant header bytes
// encoded once. Its methods never allocate beyond growing dst, and a
// BatchEncoder is safe for concurrent use (it is read-only after creation).
type BatchEncoder struct {
	head []byte // map header .. "operations" key
}

// NewBatchEncoder pre-encodes the header for the given message fields.
func NewBatchEncoder(instanceID string, workerID int64, location string) *BatchEncoder {
	return &BatchEncoder{head: appendBatchedKVHeader(nil, instanceID, workerID, location)}
}

// Append appends a complete BatchedKVOperationMsg carrying ops to dst; the
// bytes equal BatchedKVOperationMsg{...}.AppendMsgpack.
func (e *BatchEncoder) Append(dst []byte, ops []KVOpEvent) []byte {
	dst = append(dst, e.head...)
	dst = appendArrayHeader(dst, len(ops))
	for i := range ops {
		dst = appendOp(dst, ops[i].OpType, ops[i].Key, ops[i].SeqNum)
	}
	return dst
}

// AppendKeys appends a complete BatchedKVOperationMsg whose operations are
// all op, on keys[i] with sequence number firstSeq+i (the benchmark's
// per-(instance, worker, location) counter). It is the producers' hot
// path: dst grows once for the whole batch, and each operation is written
// by index (a constant prefix, the key, "seq_num", the sequence number).
func (e *BatchEncoder) AppendKeys(dst []byte, op OpType, keys []Int, firstSeq int64) []byte {
	var prefix *[opPrefixLen]byte
	switch op {
	case OpAdmit:
		prefix = &admitPrefix
	case OpEvict:
		prefix = &evictPrefix
	default:
		dst = append(dst, e.head...)
		dst = appendArrayHeader(dst, len(keys))
		for i, k := range keys {
			dst = appendOp(dst, op, k, firstSeq+int64(i))
		}
		return dst
	}
	dst = slices.Grow(dst, len(e.head)+keyOpsMaxLen(len(keys)))
	dst = append(dst, e.head...)
	return appendKeyOps(dst, prefix, keys, firstSeq)
}

// keyOpsMaxLen bounds the encoded size of n operations with their array
// header.
func keyOpsMaxLen(n int) int {
	const maxInt = 9 // the longest msgpack int
	return 5 + n*(opPrefixLen+maxInt+seqNumKeyLen+maxInt)
}

// appendKeyOps appends the operations array of AppendKeys: its header,
// then per key the pre-encoded prefix, the key, "seq_num" and the
// sequence number, written by index into room it makes once.
func appendKeyOps(dst []byte, prefix *[opPrefixLen]byte, keys []Int, firstSeq int64) []byte {
	dst = slices.Grow(dst, keyOpsMaxLen(len(keys)))
	dst = appendArrayHeader(dst, len(keys))
	n, b := len(dst), dst[:cap(dst)]
	// A batch's sequence numbers are consecutive: once past 65535 they are
	// nearly always all uint32 (0xce and 4 bytes), known once per batch.
	seq32 := firstSeq > math.MaxUint16 && firstSeq <= math.MaxUint32-int64(len(keys))+1
	for i, k := range keys {
		*(*[opPrefixLen]byte)(b[n:]) = *prefix // fixed-size stores, no memmove call
		n += opPrefixLen
		if k.Neg {
			n += putInt(b[n:], int64(k.Bits))
		} else {
			n += putUint(b[n:], k.Bits)
		}
		*(*[seqNumKeyLen]byte)(b[n:]) = seqNumKey
		n += seqNumKeyLen
		if seq32 {
			b[n] = 0xce
			binary.BigEndian.PutUint32(b[n+1:], uint32(firstSeq+int64(i)))
			n += 5
		} else {
			n += putInt(b[n:], firstSeq+int64(i))
		}
	}
	return dst[:n]
}

// Size returns the exact encoded size of a message carrying ops, for
// pre-sizing buffers.
func (e *BatchEncoder) Size(ops []KVOpEvent) int {
	n := len(e.head) + arrayHeaderLen(len(ops))
	for i := range ops {
		n += len(opAdmitPrefix) + intLen(ops[i].Key) + len(kSeqNum) + intLen(IntOf(ops[i].SeqNum))
		if ops[i].OpType > OpEvict {
			n += len(appendStr(nil, ops[i].OpType.String())) - len(vAdmit)
		}
	}
	return n
}

// P2PEncoder writes BatchedP2PLookupMsg frames for one
// (instance_id, worker_id) with the constant bytes encoded once. It never
// allocates beyond growing dst and is safe for concurrent use.
type P2PEncoder struct {
	tail []byte // "instance_id" .. worker_id value
}

// NewP2PEncoder pre-encodes the constant fields.
func NewP2PEncoder(instanceID string, workerID int64) *P2PEncoder {
	return &P2PEncoder{tail: appendP2PTail(nil, instanceID, workerID)}
}

// Append appends a complete BatchedP2PLookupMsg for hashes to dst; the
// bytes equal BatchedP2PLookupMsg{...}.AppendMsgpack.
func (e *P2PEncoder) Append(dst []byte, hashes []Int) []byte {
	dst = append(dst, p2pHead...)
	dst = appendArrayHeader(dst, len(hashes))
	for _, h := range hashes {
		dst = h.AppendMsgpack(dst)
	}
	return append(dst, e.tail...)
}

// Size returns the exact encoded size of a message for hashes.
func (e *P2PEncoder) Size(hashes []Int) int {
	n := len(p2pHead) + arrayHeaderLen(len(hashes)) + len(e.tail)
	for _, h := range hashes {
		n += intLen(h)
	}
	return n
}

// Pre-encoded pieces of one KVOpEvent.
var (
	opAdmitPrefix = "\x83" + tok("op_type") + tok("admit") + tok("key")
	opEvictPrefix = "\x83" + tok("op_type") + tok("evict") + tok("key")
)

// The constant parts of AppendKeys' operations as arrays (the conversions
// below panic at start-up if a length were wrong).
const (
	opPrefixLen  = len("\x83") + len("\xa7op_type") + len("\xa5admit") + len("\xa3key")
	seqNumKeyLen = len("\xa7seq_num")
)

var (
	admitPrefix = [opPrefixLen]byte([]byte(opAdmitPrefix))
	evictPrefix = [opPrefixLen]byte([]byte(opEvictPrefix))
	seqNumKey   = [seqNumKeyLen]byte([]byte(kSeqNum))
)

var p2pHead = "\x84" + kType + tBatchedP2PLookupMsg + kHashes

func appendOp(dst []byte, op OpType, key Int, seq int64) []byte {
	switch op {
	case OpAdmit:
		dst = append(dst, opAdmitPrefix...)
	case OpEvict:
		dst = append(dst, opEvictPrefix...)
	default:
		dst = append(dst, 0x83)
		dst = append(dst, kOpType...)
		dst = appendStr(dst, op.String())
		dst = append(dst, kKey...)
	}
	dst = key.AppendMsgpack(dst)
	dst = append(dst, kSeqNum...)
	return appendInt(dst, seq)
}

func arrayHeaderLen(n int) int {
	switch {
	case n < 16:
		return 1
	case n <= 0xffff:
		return 3
	}
	return 5
}

func intLen(i Int) int {
	if i.Neg {
		v := int64(i.Bits)
		switch {
		case v >= -32:
			return 1
		case v >= -128:
			return 2
		case v >= -32768:
			return 3
		case v >= -2147483648:
			return 5
		}
		return 9
	}
	switch v := i.Bits; {
	case v < 0x80:
		return 1
	case v <= 0xff:
		return 2
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	}
	return 9
}
