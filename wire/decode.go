package wire

import (
	"github.com/lmfast/lmfast/wire/internal/mpack"
	"github.com/lmfast/lmfast/wire/msgspec"
)

// Decode decodes one message as msgspec.msgpack.decode(b, type=Msg) does.
// The whole of b must be one message. Errors are *Error values whose text
// matches msgspec's.
func Decode(b []byte) (Msg, error) {
	d := newDecoder(b, false)
	m, err := d.msg()
	if err != nil {
		return nil, err
	}
	if d.Pos != len(d.B) {
		return nil, mpack.Trailing(d.Pos)
	}
	return m, nil
}

// DecodeNext decodes the first message of b and returns it with the number
// of bytes it took (for streams of concatenated messages).
func DecodeNext(b []byte) (Msg, int, error) {
	d := newDecoder(b, false)
	m, err := d.msg()
	if err != nil {
		return nil, 0, err
	}
	return m, d.Pos, nil
}

// DecodeValue decodes b, the whole of it one MessagePack value, as
// msgspec decodes an Any-typed field: maps are dicts with Python's key
// equality, arrays inside keys are tuples, timestamps are datetimes. A
// message's own encoding decodes to a KindMap whose first entry is the
// tag, then its fields in declaration order.
func DecodeValue(b []byte) (Value, error) { return msgspec.DecodeValue(b) }

// Convert builds a message from a Python object as
// msgspec.convert(obj, type=Msg) does: the rules of Decode, with
// msgspec.convert's type names in errors ("null", "list", "dict") and
// BigIntValue for ints beyond MessagePack's range.
func Convert(v Value) (Msg, error) {
	return newDecoder(v.AppendMsgpack(nil), true).msg()
}

// decoder reads one message: mpack's cursor, with the memory a Decoder
// lends it.
type decoder struct {
	mpack.Dec
	reuse *Decoder // set by Decoder.Decode: the memory to reuse
}

func newDecoder(b []byte, conv bool) *decoder {
	d := &decoder{}
	d.Reset(b, conv)
	return d
}

// fieldSetter decodes field i of a struct from the cursor.
type fieldSetter interface {
	setField(d *decoder, i int) error
}

// structBody decodes n map entries into t (mpack.Dec.StructBody).
func (d *decoder) structBody(n int, s *mpack.StructSpec, tag string, t fieldSetter) error {
	return d.StructBody(n, s, tag, func(i int) error { return t.setField(d, i) }, nil)
}

// msg decodes a message of the Msg union: a class with a Go type of its
// own by its decoder, any other by package msgspec's generic decoding.
func (d *decoder) msg() (Msg, error) {
	n, err := d.MapLen("object")
	if err != nil {
		return nil, err
	}
	tag, rest, err := d.UnionTag(n, "type")
	if err != nil {
		return nil, err
	}
	c, ok := classes[string(tag)]
	if !ok {
		g := msgspec.LookupClass(tag)
		if g == nil {
			d.PushField("type")
			return nil, d.InvalidTag(tag)
		}
		fields, err := g.ReadFields(&d.Dec, rest)
		if err != nil {
			return nil, err
		}
		return &GenericMsg{Type: g.Name(), Fields: fields}, nil
	}
	var m decodable
	if d.reuse != nil && c.name == TypeBatchedKVOperationMsg {
		m = d.reuse.newBatch()
	} else {
		m = c.new()
	}
	if err := d.structBody(rest, c.spec, c.name, m); err != nil {
		return nil, err
	}
	return m.msg(), nil
}
