package wire

import (
	"encoding/binary"
	"math"

	"github.com/lmfast/lmfast/internal/pyfmt"
	"github.com/lmfast/lmfast/wire/internal/mpack"
	"github.com/lmfast/lmfast/wire/msgspec"
)

// decodable is a message under construction by the decoder.
type decodable interface {
	fieldSetter
	msg() Msg
}

// class is one tagged class of the Msg union.
type class struct {
	name string
	spec *mpack.StructSpec
	new  func() decodable
}

var classes = map[string]*class{}

func register(name string, spec *mpack.StructSpec, f func() decodable) {
	classes[name] = &class{name: name, spec: spec, new: f}
}

func spec(nreq int, fields ...string) *mpack.StructSpec {
	return &mpack.StructSpec{TagField: "type", Fields: fields, NReq: nreq}
}

func init() {
	register(TypeRegisterMsg, spec(5, "instance_id", "worker_id", "ip", "port", "peer_init_url"), func() decodable { return new(RegisterMsg) })
	register(TypeRegisterRetMsg, spec(0, "extra_config"), func() decodable { return new(RegisterRetMsg) })
	register(TypeDeRegisterMsg, spec(4, "instance_id", "worker_id", "ip", "port"), func() decodable { return new(DeRegisterMsg) })
	register(TypeHeartbeatMsg, spec(5, "instance_id", "worker_id", "ip", "port", "peer_init_url"), func() decodable { return new(HeartbeatMsg) })
	register(TypeHeartbeatRetMsg, spec(0, "commands"), func() decodable { return new(HeartbeatRetMsg) })
	register(TypeBatchedKVOperationMsg, spec(4, "instance_id", "worker_id", "location", "operations"), func() decodable { return new(BatchedKVOperationMsg) })
	register(TypeBatchedP2PLookupMsg, spec(3, "hashes", "instance_id", "worker_id"), func() decodable { return new(BatchedP2PLookupMsg) })
	register(TypeBatchedP2PLookupRetMsg, spec(1, "layout_info"), func() decodable { return new(BatchedP2PLookupRetMsg) })
	register(TypeErrorMsg, spec(1, "error"), func() decodable { return new(ErrorMsg) })
	register(TypeKVAdmitMsg, spec(4, "instance_id", "worker_id", "key", "location", "seq_num"), func() decodable { return new(KVAdmitMsg) })
	register(TypeKVEvictMsg, spec(4, "instance_id", "worker_id", "key", "location", "seq_num"), func() decodable { return new(KVEvictMsg) })
	register(TypeFullSyncStartMsg, spec(6, "instance_id", "worker_id", "location", "sync_id", "total_keys", "batch_count"), func() decodable { return new(FullSyncStartMsg) })
	register(TypeFullSyncStartRetMsg, spec(2, "sync_id", "accepted", "error_msg"), func() decodable { return new(FullSyncStartRetMsg) })
	register(TypeFullSyncBatchMsg, spec(6, "instance_id", "worker_id", "location", "sync_id", "batch_id", "keys"), func() decodable { return new(FullSyncBatchMsg) })
	register(TypeFullSyncEndMsg, spec(5, "instance_id", "worker_id", "location", "sync_id", "actual_total_keys"), func() decodable { return new(FullSyncEndMsg) })
	register(TypeFullSyncStatusMsg, spec(3, "instance_id", "worker_id", "sync_id"), func() decodable { return new(FullSyncStatusMsg) })
	register(TypeFullSyncStatusRetMsg, spec(4, "sync_id", "is_complete", "global_progress", "can_exit_freeze", "missing_batches"), func() decodable { return new(FullSyncStatusRetMsg) })
}

func (m *RegisterMsg) msg() Msg { return m }
func (m *RegisterMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.IP, err = d.Str()
	case 3:
		m.Port, err = d.Int64()
	case 4:
		m.PeerInitURL, err = d.OptStr()
	}
	return err
}

func (m *HeartbeatMsg) msg() Msg { return m }
func (m *HeartbeatMsg) setField(d *decoder, i int) error {
	r := (*RegisterMsg)(m)
	return r.setField(d, i)
}

func (m *DeRegisterMsg) msg() Msg { return m }
func (m *DeRegisterMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.IP, err = d.Str()
	case 3:
		m.Port, err = d.Int64()
	}
	return err
}

func (m *RegisterRetMsg) msg() Msg { return m }
func (m *RegisterRetMsg) setField(d *decoder, i int) error {
	n, err := d.MapLen("object")
	if err != nil {
		return err
	}
	if err := d.Enter(); err != nil {
		return err
	}
	defer d.Leave()
	out := make([]StrPair, 0, d.CapFor(n))
	for j := 0; j < n; j++ {
		d.PushKey()
		k, err := d.Str()
		if err != nil {
			return err
		}
		d.Pop()
		d.PushValues()
		v, err := d.Str()
		if err != nil {
			return err
		}
		d.Pop()
		out = setStrPair(out, k, v)
	}
	m.ExtraConfig = mpack.NilIfEmpty(out)
	return nil
}

// setStrPair stores k=v with Python dict semantics (a repeated key keeps its
// first position and takes the last value).
func setStrPair(out []StrPair, k, v string) []StrPair {
	for i := range out {
		if out[i].Key == k {
			out[i].Value = v
			return out
		}
	}
	return append(out, StrPair{k, v})
}

func (m *HeartbeatRetMsg) msg() Msg { return m }
func (m *HeartbeatRetMsg) setField(d *decoder, i int) error {
	n, err := d.ArrayLen("array")
	if err != nil {
		return err
	}
	if err := d.Enter(); err != nil {
		return err
	}
	defer d.Leave()
	out := make([]HeartbeatCommand, 0, d.CapFor(n))
	for j := 0; j < n; j++ {
		d.PushIndex()
		d.SetIndex(j)
		c, err := d.command()
		if err != nil {
			return err
		}
		d.Pop()
		out = append(out, c)
	}
	m.Commands = mpack.NilIfEmpty(out)
	return nil
}

var commandSpec = &mpack.StructSpec{TagField: "command_type", Fields: []string{"reason", "args"}}

type commandDec struct{ c *HeartbeatCommand }

func (c commandDec) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		c.c.Reason, err = d.OptStr()
	case 1:
		c.c.Args, err = msgspec.ReadOptDict(&d.Dec)
	}
	return err
}

// command decodes Union[FullSyncCommand, HeartbeatCommand].
func (d *decoder) command() (HeartbeatCommand, error) {
	var c HeartbeatCommand
	n, err := d.MapLen("object")
	if err != nil {
		return c, err
	}
	tag, rest, err := d.UnionTag(n, "command_type")
	if err != nil {
		return c, err
	}
	switch string(tag) {
	case CommandFullSync:
		c.CommandType = CommandFullSync
	case CommandGeneric:
		c.CommandType = CommandGeneric
	default:
		d.PushField("command_type")
		return c, d.InvalidTag(tag)
	}
	err = d.structBody(rest, commandSpec, c.CommandType, commandDec{&c})
	return c, err
}

func (m *BatchedKVOperationMsg) msg() Msg { return m }
func (m *BatchedKVOperationMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.Location, err = d.Str()
	case 3:
		m.Operations, err = d.kvOpsInto(nil)
	}
	return err
}

var kvOpSpec = &mpack.StructSpec{Fields: []string{"op_type", "key", "seq_num"}, NReq: 3}

type kvOpDec struct{ e *KVOpEvent }

func (k kvOpDec) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		k.e.OpType, err = d.opType()
	case 1:
		k.e.Key, err = d.BigInt()
	case 2:
		k.e.SeqNum, err = d.Int64()
	}
	return err
}

// kvOpsInto reads an array of KVOpEvent into dst's backing store (a new
// one of the array's length when too small); an empty array is nil.
func (d *decoder) kvOpsInto(dst []KVOpEvent) ([]KVOpEvent, error) {
	n, err := d.ArrayLen("array")
	if err != nil {
		return nil, err
	}
	if err := d.Enter(); err != nil {
		return nil, err
	}
	defer d.Leave()
	out := dst[:0]
	if want := d.CapFor(n); cap(out) < want {
		out = make([]KVOpEvent, 0, want)
	}
	for j := 0; j < n; j++ {
		if fastKVOps && !d.Conv && len(out) < cap(out) {
			// Decode the run of canonical ops from here in place; the
			// general path takes the op that ends it, if any.
			room := min(n-j, cap(out)-len(out))
			k, used := fastKVRun(d.B[d.Pos:], out[len(out):len(out)+room])
			out, d.Pos, j = out[:len(out)+k], d.Pos+used, j+k
			if j == n {
				break
			}
		}
		d.PushIndex()
		d.SetIndex(j)
		en, err := d.MapLen("object")
		if err != nil {
			return nil, err
		}
		out = append(out, KVOpEvent{})
		if err := d.structBody(en, kvOpSpec, "", kvOpDec{&out[len(out)-1]}); err != nil {
			return nil, err
		}
		d.Pop()
	}
	return mpack.NilIfEmpty(out), nil
}

// The words fastKVRun compares: bytes 0-7 of both prefixes (they differ
// only in the op name, from byte 10), bytes 8-15 and 11-18 of each, and
// the seq_num key (exactly 8 bytes).
var (
	prefixWord0 = le64(admitPrefix[:])
	admitWords  = [2]uint64{le64(admitPrefix[8:]), le64(admitPrefix[opPrefixLen-8:])}
	evictWords  = [2]uint64{le64(evictPrefix[8:]), le64(evictPrefix[opPrefixLen-8:])}
	seqNumWord  = le64(seqNumKey[:])
)

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// fastKVOps enables fastKVRun; tests turn it off to compare both paths.
var fastKVOps = true

// fastKVRun decodes ops from b into out, as many as fill out, while they
// are in the canonical form that msgspec and lmfast write (a 3-entry map,
// op_type "admit" or "evict" as a fixstr, then key and seq_num), with one
// comparison per constant part and no per-op call. It returns the ops
// decoded and the bytes they took; at the first op in any other form it
// stops having consumed nothing of it, and the general path decodes that
// op with msgspec's exact errors.
func fastKVRun(b []byte, out []KVOpEvent) (ops, used int) {
	p := 0
	for i := range out {
		c := b[p:]
		if len(c) < opPrefixLen+1+seqNumKeyLen+1 { // the shortest op
			return i, p
		}
		// Three overlapping 8-byte words cover the 19-byte prefix (a
		// [19]byte compare would be a memequal call).
		w0, w1, w2 := le64(c), le64(c[8:]), le64(c[opPrefixLen-8:])
		switch {
		case w0 != prefixWord0:
			return i, p
		case w1 == admitWords[0] && w2 == admitWords[1]:
			out[i].OpType = OpAdmit
		case w1 == evictWords[0] && w2 == evictWords[1]:
			out[i].OpType = OpEvict
		default:
			return i, p
		}
		q := opPrefixLen
		if u, n := quickUint(c[q:]); n > 0 {
			out[i].Key = Int{Bits: u}
			q += n
		} else {
			key, n := mpack.FastInt(c[q:])
			if n == 0 {
				return i, p
			}
			out[i].Key = key
			q += n
		}
		if len(c) < q+seqNumKeyLen || le64(c[q:]) != seqNumWord {
			return i, p
		}
		q += seqNumKeyLen
		if u, n := quickUint(c[q:]); n > 0 && u <= math.MaxInt64 {
			out[i].SeqNum = int64(u)
			q += n
		} else {
			seq, n := mpack.FastInt(c[q:])
			if n == 0 {
				return i, p
			}
			s, ok := seq.Int64()
			if !ok {
				return i, p
			}
			out[i].SeqNum = s
			q += n
		}
		p += q
	}
	return len(out), p
}

// quickUint reads a non-negative MessagePack integer (positive fixint or
// uint8..uint64) with one unaligned load, when 9 bytes are there to load;
// else, or for any other form, it returns 0 bytes read.
func quickUint(b []byte) (uint64, int) {
	if len(b) < 9 {
		return 0, 0
	}
	op := b[0]
	if op <= 0x7f {
		return uint64(op), 1
	}
	if op-0xcc > 3 { // not 0xcc..0xcf
		return 0, 0
	}
	w := uint(1) << (op - 0xcc)
	return binary.BigEndian.Uint64(b[1:]) >> (64 - 8*w), 1 + int(w)
}

func (d *decoder) opType() (OpType, error) {
	op, err := d.Peek()
	if err != nil {
		return 0, err
	}
	if !(op >= 0xa0 && op <= 0xbf) && op != 0xd9 && op != 0xda && op != 0xdb {
		return 0, d.WrongType("str")
	}
	s, err := d.CStr()
	if err != nil {
		return 0, err
	}
	switch string(s) {
	case "admit":
		return OpAdmit, nil
	case "evict":
		return OpEvict, nil
	}
	if e := mpack.UTF8Error(s); e != nil {
		return 0, e
	}
	return 0, d.Verr("Invalid enum value " + pyfmt.Repr(string(s)))
}

func (m *BatchedP2PLookupMsg) msg() Msg { return m }
func (m *BatchedP2PLookupMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.Hashes, err = d.IntList()
	case 1:
		m.InstanceID, err = d.Str()
	case 2:
		m.WorkerID, err = d.Int64()
	}
	return err
}

func (m *BatchedP2PLookupRetMsg) msg() Msg { return m }
func (m *BatchedP2PLookupRetMsg) setField(d *decoder, i int) error {
	n, err := d.ArrayLen("array")
	if err != nil {
		return err
	}
	if err := d.Enter(); err != nil {
		return err
	}
	defer d.Leave()
	out := make([]LayoutInfo, 0, d.CapFor(n))
	for j := 0; j < n; j++ {
		d.PushIndex()
		d.SetIndex(j)
		l, err := d.layoutInfo()
		if err != nil {
			return err
		}
		d.Pop()
		out = append(out, l)
	}
	m.LayoutInfo = mpack.NilIfEmpty(out)
	return nil
}

func (d *decoder) layoutInfo() (LayoutInfo, error) {
	var l LayoutInfo
	n, err := d.ArrayLen("array")
	if err != nil {
		return l, err
	}
	if n != 4 {
		return l, d.Verr("Expected `array` of length 4, got " + itoa(int64(n)))
	}
	d.PushIndex()
	if l.InstanceID, err = d.Str(); err != nil {
		return l, err
	}
	d.SetIndex(1)
	if l.Location, err = d.Str(); err != nil {
		return l, err
	}
	d.SetIndex(2)
	if l.NumHitChunks, err = d.Int64(); err != nil {
		return l, err
	}
	d.SetIndex(3)
	l.PeerInitURL, err = d.Str()
	d.Pop()
	return l, err
}

func (m *ErrorMsg) msg() Msg { return m }
func (m *ErrorMsg) setField(d *decoder, i int) (err error) {
	m.Error, err = d.Str()
	return err
}

func (m *KVAdmitMsg) msg() Msg { return m }
func (m *KVAdmitMsg) setField(d *decoder, i int) (err error) {
	return setKVOp(d, i, &m.InstanceID, &m.WorkerID, &m.Key, &m.Location, &m.SeqNum)
}

func (m *KVEvictMsg) msg() Msg { return m }
func (m *KVEvictMsg) setField(d *decoder, i int) (err error) {
	return setKVOp(d, i, &m.InstanceID, &m.WorkerID, &m.Key, &m.Location, &m.SeqNum)
}

func setKVOp(d *decoder, i int, inst *string, wid *int64, key *Int, loc *string, seq *int64) (err error) {
	switch i {
	case 0:
		*inst, err = d.Str()
	case 1:
		*wid, err = d.Int64()
	case 2:
		*key, err = d.BigInt()
	case 3:
		*loc, err = d.Str()
	case 4:
		*seq, err = d.Int64()
	}
	return err
}

func (m *FullSyncStartMsg) msg() Msg { return m }
func (m *FullSyncStartMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.Location, err = d.Str()
	case 3:
		m.SyncID, err = d.Str()
	case 4:
		m.TotalKeys, err = d.Int64()
	case 5:
		m.BatchCount, err = d.Int64()
	}
	return err
}

func (m *FullSyncStartRetMsg) msg() Msg { return m }
func (m *FullSyncStartRetMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.SyncID, err = d.Str()
	case 1:
		m.Accepted, err = d.Bool()
	case 2:
		m.ErrorMsg, err = d.OptStr()
	}
	return err
}

func (m *FullSyncBatchMsg) msg() Msg { return m }
func (m *FullSyncBatchMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.Location, err = d.Str()
	case 3:
		m.SyncID, err = d.Str()
	case 4:
		m.BatchID, err = d.Int64()
	case 5:
		m.Keys, err = d.IntList()
	}
	return err
}

func (m *FullSyncEndMsg) msg() Msg { return m }
func (m *FullSyncEndMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.Location, err = d.Str()
	case 3:
		m.SyncID, err = d.Str()
	case 4:
		m.ActualTotalKeys, err = d.Int64()
	}
	return err
}

func (m *FullSyncStatusMsg) msg() Msg { return m }
func (m *FullSyncStatusMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.Str()
	case 1:
		m.WorkerID, err = d.Int64()
	case 2:
		m.SyncID, err = d.Str()
	}
	return err
}

func (m *FullSyncStatusRetMsg) msg() Msg { return m }
func (m *FullSyncStatusRetMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.SyncID, err = d.Str()
	case 1:
		m.IsComplete, err = d.Bool()
	case 2:
		m.GlobalProgress, err = d.Float()
	case 3:
		m.CanExitFreeze, err = d.Bool()
	case 4:
		m.MissingBatches, err = d.Int64List()
	}
	return err
}
