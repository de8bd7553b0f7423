package wire

import (
	"encoding/binary"
	"math"

	"github.com/lmfast/lmfast/internal/pyfmt"
)

// decodable is a message under construction by the decoder.
type decodable interface {
	fieldSetter
	msg() Msg
}

// extraSetter receives fields a struct does not declare (lenient classes).
type extraSetter interface {
	setExtra(d *decoder, key []byte) error
}

// class is one tagged class of the Msg union.
type class struct {
	name string
	spec *structSpec
	new  func() decodable
}

var classes = map[string]*class{}

func register(name string, spec *structSpec, f func() decodable) {
	classes[name] = &class{name: name, spec: spec, new: f}
}

func spec(nreq int, fields ...string) *structSpec {
	return &structSpec{tagField: "type", fields: fields, nreq: nreq}
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
	registerGeneric()
}

func (m *RegisterMsg) msg() Msg { return m }
func (m *RegisterMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.IP, err = d.str()
	case 3:
		m.Port, err = d.int64()
	case 4:
		m.PeerInitURL, err = d.optStr()
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
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.IP, err = d.str()
	case 3:
		m.Port, err = d.int64()
	}
	return err
}

func (m *RegisterRetMsg) msg() Msg { return m }
func (m *RegisterRetMsg) setField(d *decoder, i int) error {
	n, err := d.mapLen("object")
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	out := make([]StrPair, 0, d.capFor(n))
	for j := 0; j < n; j++ {
		d.pushKey()
		k, err := d.str()
		if err != nil {
			return err
		}
		d.pop()
		d.pushValues()
		v, err := d.str()
		if err != nil {
			return err
		}
		d.pop()
		out = setStrPair(out, k, v)
	}
	m.ExtraConfig = nilIfEmpty(out)
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
	n, err := d.arrayLen("array")
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	out := make([]HeartbeatCommand, 0, d.capFor(n))
	for j := 0; j < n; j++ {
		d.pushIndex()
		d.setIndex(j)
		c, err := d.command()
		if err != nil {
			return err
		}
		d.pop()
		out = append(out, c)
	}
	m.Commands = nilIfEmpty(out)
	return nil
}

var commandSpec = &structSpec{tagField: "command_type", fields: []string{"reason", "args"}}

type commandDec struct{ c *HeartbeatCommand }

func (c commandDec) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		c.c.Reason, err = d.optStr()
	case 1:
		c.c.Args, err = d.optDict()
	}
	return err
}

// command decodes Union[FullSyncCommand, HeartbeatCommand].
func (d *decoder) command() (HeartbeatCommand, error) {
	var c HeartbeatCommand
	n, err := d.mapLen("object")
	if err != nil {
		return c, err
	}
	tag, rest, err := d.unionTag(n, "command_type")
	if err != nil {
		return c, err
	}
	switch string(tag) {
	case CommandFullSync:
		c.CommandType = CommandFullSync
	case CommandGeneric:
		c.CommandType = CommandGeneric
	default:
		d.pushField("command_type")
		return c, d.invalidTag(tag)
	}
	err = d.structBody(rest, commandSpec, c.CommandType, commandDec{&c})
	return c, err
}

// optDict decodes Optional[Dict[str, Any]].
func (d *decoder) optDict() (*Dict, error) {
	if isNil, err := d.isNil(); err != nil || isNil {
		return nil, err
	}
	n, err := d.mapLen("object | null")
	if err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	out := make(Dict, 0, d.capFor(n))
	var idx map[string]int
	for j := 0; j < n; j++ {
		d.pushKey()
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.pop()
		d.pushValues()
		v, err := d.any(false)
		if err != nil {
			return nil, err
		}
		d.pop()
		out, idx = setDictEntry(out, idx, k, v)
	}
	return &out, nil
}

func setDictEntry(out Dict, idx map[string]int, k string, v Value) (Dict, map[string]int) {
	if len(out) < 16 {
		for i := range out {
			if out[i].Key == k {
				out[i].Value = v
				return out, idx
			}
		}
	} else {
		if idx == nil {
			idx = make(map[string]int, len(out)*2)
			for i := range out {
				idx[out[i].Key] = i
			}
		}
		if i, ok := idx[k]; ok {
			out[i].Value = v
			return out, idx
		}
		idx[k] = len(out)
	}
	return append(out, DictEntry{k, v}), idx
}

func (m *BatchedKVOperationMsg) msg() Msg { return m }
func (m *BatchedKVOperationMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.Location, err = d.str()
	case 3:
		m.Operations, err = d.kvOpsInto(nil)
	}
	return err
}

var kvOpSpec = &structSpec{fields: []string{"op_type", "key", "seq_num"}, nreq: 3}

type kvOpDec struct{ e *KVOpEvent }

func (k kvOpDec) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		k.e.OpType, err = d.opType()
	case 1:
		k.e.Key, err = d.bigInt()
	case 2:
		k.e.SeqNum, err = d.int64()
	}
	return err
}

// kvOpsInto reads an array of KVOpEvent into dst's backing store (a new
// one of the array's length when too small); an empty array is nil.
func (d *decoder) kvOpsInto(dst []KVOpEvent) ([]KVOpEvent, error) {
	n, err := d.arrayLen("array")
	if err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	out := dst[:0]
	if want := d.capFor(n); cap(out) < want {
		out = make([]KVOpEvent, 0, want)
	}
	for j := 0; j < n; j++ {
		if fastKVOps && !d.conv && len(out) < cap(out) {
			// Decode the run of canonical ops from here in place; the
			// general path takes the op that ends it, if any.
			room := min(n-j, cap(out)-len(out))
			k, used := fastKVRun(d.b[d.pos:], out[len(out):len(out)+room])
			out, d.pos, j = out[:len(out)+k], d.pos+used, j+k
			if j == n {
				break
			}
		}
		d.pushIndex()
		d.setIndex(j)
		en, err := d.mapLen("object")
		if err != nil {
			return nil, err
		}
		out = append(out, KVOpEvent{})
		if err := d.structBody(en, kvOpSpec, "", kvOpDec{&out[len(out)-1]}); err != nil {
			return nil, err
		}
		d.pop()
	}
	return nilIfEmpty(out), nil
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
			key, n := fastInt(c[q:])
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
			seq, n := fastInt(c[q:])
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
	op, err := d.peek()
	if err != nil {
		return 0, err
	}
	if !(op >= 0xa0 && op <= 0xbf) && op != 0xd9 && op != 0xda && op != 0xdb {
		return 0, d.wrongType("str")
	}
	s, err := d.cstr()
	if err != nil {
		return 0, err
	}
	switch string(s) {
	case "admit":
		return OpAdmit, nil
	case "evict":
		return OpEvict, nil
	}
	if e := utf8Error(s); e != nil {
		return 0, e
	}
	return 0, d.verr("Invalid enum value " + pyfmt.Repr(string(s)))
}

func (m *BatchedP2PLookupMsg) msg() Msg { return m }
func (m *BatchedP2PLookupMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.Hashes, err = d.intList()
	case 1:
		m.InstanceID, err = d.str()
	case 2:
		m.WorkerID, err = d.int64()
	}
	return err
}

func (m *BatchedP2PLookupRetMsg) msg() Msg { return m }
func (m *BatchedP2PLookupRetMsg) setField(d *decoder, i int) error {
	n, err := d.arrayLen("array")
	if err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	out := make([]LayoutInfo, 0, d.capFor(n))
	for j := 0; j < n; j++ {
		d.pushIndex()
		d.setIndex(j)
		l, err := d.layoutInfo()
		if err != nil {
			return err
		}
		d.pop()
		out = append(out, l)
	}
	m.LayoutInfo = nilIfEmpty(out)
	return nil
}

func (d *decoder) layoutInfo() (LayoutInfo, error) {
	var l LayoutInfo
	n, err := d.arrayLen("array")
	if err != nil {
		return l, err
	}
	if n != 4 {
		return l, d.verr("Expected `array` of length 4, got " + itoa(int64(n)))
	}
	d.pushIndex()
	if l.InstanceID, err = d.str(); err != nil {
		return l, err
	}
	d.setIndex(1)
	if l.Location, err = d.str(); err != nil {
		return l, err
	}
	d.setIndex(2)
	if l.NumHitChunks, err = d.int64(); err != nil {
		return l, err
	}
	d.setIndex(3)
	l.PeerInitURL, err = d.str()
	d.pop()
	return l, err
}

func (m *ErrorMsg) msg() Msg { return m }
func (m *ErrorMsg) setField(d *decoder, i int) (err error) {
	m.Error, err = d.str()
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
		*inst, err = d.str()
	case 1:
		*wid, err = d.int64()
	case 2:
		*key, err = d.bigInt()
	case 3:
		*loc, err = d.str()
	case 4:
		*seq, err = d.int64()
	}
	return err
}

func (m *FullSyncStartMsg) msg() Msg { return m }
func (m *FullSyncStartMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.Location, err = d.str()
	case 3:
		m.SyncID, err = d.str()
	case 4:
		m.TotalKeys, err = d.int64()
	case 5:
		m.BatchCount, err = d.int64()
	}
	return err
}

func (m *FullSyncStartRetMsg) msg() Msg { return m }
func (m *FullSyncStartRetMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.SyncID, err = d.str()
	case 1:
		m.Accepted, err = d.bool()
	case 2:
		m.ErrorMsg, err = d.optStr()
	}
	return err
}

func (m *FullSyncBatchMsg) msg() Msg { return m }
func (m *FullSyncBatchMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.Location, err = d.str()
	case 3:
		m.SyncID, err = d.str()
	case 4:
		m.BatchID, err = d.int64()
	case 5:
		m.Keys, err = d.intList()
	}
	return err
}

func (m *FullSyncEndMsg) msg() Msg { return m }
func (m *FullSyncEndMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.Location, err = d.str()
	case 3:
		m.SyncID, err = d.str()
	case 4:
		m.ActualTotalKeys, err = d.int64()
	}
	return err
}

func (m *FullSyncStatusMsg) msg() Msg { return m }
func (m *FullSyncStatusMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.str()
	case 1:
		m.WorkerID, err = d.int64()
	case 2:
		m.SyncID, err = d.str()
	}
	return err
}

func (m *FullSyncStatusRetMsg) msg() Msg { return m }
func (m *FullSyncStatusRetMsg) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.SyncID, err = d.str()
	case 1:
		m.IsComplete, err = d.bool()
	case 2:
		m.GlobalProgress, err = d.float()
	case 3:
		m.CanExitFreeze, err = d.bool()
	case 4:
		m.MissingBatches, err = d.int64List()
	}
	return err
}
