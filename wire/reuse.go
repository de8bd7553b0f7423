package wire

import "github.com/lmfast/lmfast/wire/internal/mpack"

// Decoder decodes frames exactly as Decode does (same values, same errors)
// while reusing its memory for the message a controller's hot loop sees
// most: a BatchedKVOperationMsg it returns, with its Operations, belongs
// to the Decoder and stays valid only until the next call to Decode. Its
// strings are ordinary Go strings (instance ids and locations are
// interned, so a stream of batches from known workers allocates nothing)
// and may be kept. Every other message is freshly allocated, as by Decode.
//
// A Decoder is not safe for concurrent use; use one per goroutine.
type Decoder struct {
	d     decoder
	batch BatchedKVOperationMsg
	ops   []KVOpEvent       // backing store of batch.Operations
	strs  map[string]string // interned instance ids and locations
}

// maxInterned bounds the interned strings; past it strings are allocated.
const maxInterned = 1 << 14

// Decode decodes one message from b (the whole of b, like Decode).
func (x *Decoder) Decode(b []byte) (Msg, error) {
	d := &x.d
	d.Reset(b, false)
	d.reuse = x
	m, err := d.msg()
	d.B = nil // keep no reference to the caller's frame
	if err != nil {
		return nil, err
	}
	if d.Pos != len(b) {
		return nil, mpack.Trailing(d.Pos)
	}
	return m, nil
}

// newBatch returns the reused batch, reset, for the decoder to fill.
func (x *Decoder) newBatch() decodable {
	x.batch = BatchedKVOperationMsg{}
	return (*reusedBatch)(&x.batch)
}

// intern returns s as a string, allocating only the first time it is seen.
func (x *Decoder) intern(s []byte) string {
	if v, ok := x.strs[string(s)]; ok {
		return v
	}
	v := string(s)
	if x.strs == nil {
		x.strs = make(map[string]string)
	}
	if len(x.strs) < maxInterned {
		x.strs[v] = v
	}
	return v
}

// reusedBatch is the Decoder's batch: it decodes like
// BatchedKVOperationMsg, with interned strings and the reused operations.
type reusedBatch BatchedKVOperationMsg

func (m *reusedBatch) msg() Msg { return (*BatchedKVOperationMsg)(m) }

func (m *reusedBatch) setField(d *decoder, i int) (err error) {
	switch i {
	case 0:
		m.InstanceID, err = d.internedStr()
	case 2:
		m.Location, err = d.internedStr()
	case 3:
		x := d.reuse
		var ops []KVOpEvent
		ops, err = d.kvOpsInto(x.ops[:0])
		if cap(ops) > cap(x.ops) {
			x.ops = ops[:0]
		}
		m.Operations = ops
	default:
		return (*BatchedKVOperationMsg)(m).setField(d, i)
	}
	return err
}

// internedStr reads a str like str, interning it through the Decoder.
func (d *decoder) internedStr() (string, error) {
	s, err := d.StrBytes("str")
	if err != nil {
		return "", err
	}
	return d.reuse.intern(s), nil
}
