package msgspec

// Any-typed values as msgspec decodes them into Python objects: dicts with
// Python's key equality (1 == 1.0 == True, a repeated key keeping its first
// position), unhashable keys as TypeError, timestamps at datetime's
// microsecond precision.

import (
	"encoding/binary"
	"math"

	"github.com/lmfast/lmfast/wire/internal/mpack"
)

// DecodeValue decodes b, the whole of it one MessagePack value, as
// msgspec decodes an Any-typed field (package wire's DecodeValue).
func DecodeValue(b []byte) (Value, error) {
	d := new(mpack.Dec)
	d.Reset(b, false)
	v, err := readAny(d, false)
	if err != nil {
		return Value{}, err
	}
	if d.Pos != len(b) {
		return Value{}, mpack.Trailing(d.Pos)
	}
	return v, nil
}

// ReadOptDict reads an Optional[Dict[str, Any]] value at d's cursor (nil
// for None).
func ReadOptDict(d *mpack.Dec) (*Dict, error) {
	if isNil, err := d.IsNil(); err != nil || isNil {
		return nil, err
	}
	n, err := d.MapLen("object | null")
	if err != nil {
		return nil, err
	}
	if err := d.Enter(); err != nil {
		return nil, err
	}
	defer d.Leave()
	out := make(Dict, 0, d.CapFor(n))
	var idx map[string]int
	for j := 0; j < n; j++ {
		d.PushKey()
		k, err := d.Str()
		if err != nil {
			return nil, err
		}
		d.Pop()
		d.PushValues()
		v, err := readAny(d, false)
		if err != nil {
			return nil, err
		}
		d.Pop()
		out, idx = setDictEntry(out, idx, k, v)
	}
	return &out, nil
}

// readAny decodes an Any-typed value as msgspec does (isKey: a dict key,
// where arrays become tuples and dicts are unhashable).
func readAny(d *mpack.Dec, isKey bool) (Value, error) {
	op, err := d.Peek()
	if err != nil {
		return Value{}, err
	}
	switch {
	case mpack.IsIntOp(op):
		i, err := d.RawInt()
		return Value{Kind: KindInt, Int: i}, err
	case op >= 0xa0 && op <= 0xbf, op == 0xd9, op == 0xda, op == 0xdb:
		s, err := d.StrBytes("any")
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindStr, Str: string(s)}, nil
	case op >= 0x90 && op <= 0x9f, op == 0xdc, op == 0xdd:
		n, err := d.ArrayLen("any")
		if err != nil {
			return Value{}, err
		}
		if err := d.Enter(); err != nil {
			return Value{}, err
		}
		defer d.Leave()
		out := make([]Value, 0, min(d.CapFor(n), 16))
		d.PushIndex()
		for i := 0; i < n; i++ {
			d.SetIndex(i)
			v, err := readAny(d, isKey)
			if err != nil {
				return Value{}, err
			}
			out = append(out, v)
		}
		d.Pop()
		return Value{Kind: KindArray, Array: out}, nil
	case op >= 0x80 && op <= 0x8f, op == 0xde, op == 0xdf:
		n, err := d.MapLen("any")
		if err != nil {
			return Value{}, err
		}
		if err := d.Enter(); err != nil {
			return Value{}, err
		}
		defer d.Leave()
		var m anyMap
		m.entries = make([]Entry, 0, min(d.CapFor(n), 16))
		for i := 0; i < n; i++ {
			d.PushKey()
			k, err := readAny(d, true)
			if err != nil {
				return Value{}, err
			}
			d.KeyToValue()
			v, err := readAny(d, false)
			if err != nil {
				return Value{}, err
			}
			d.Pop()
			if e := unhashable(k); e != nil {
				return Value{}, e
			}
			m.set(k, v)
		}
		return Value{Kind: KindMap, Map: m.entries}, nil
	}
	d.Pos++
	switch op {
	case 0xc0:
		return Value{}, nil
	case 0xc2:
		return Value{Kind: KindBool}, nil
	case 0xc3:
		return Value{Kind: KindBool, Bool: true}, nil
	case 0xca:
		s, err := d.Next(4)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindFloat, Float: float64(math.Float32frombits(binary.BigEndian.Uint32(s)))}, nil
	case 0xcb:
		s, err := d.Next(8)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindFloat, Float: math.Float64frombits(binary.BigEndian.Uint64(s))}, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.Size(1 << (op - 0xc4))
		if err != nil {
			return Value{}, err
		}
		s, err := d.Next(n)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindBin, Bin: append([]byte{}, s...)}, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0xc8, 0xc9:
		d.Pos--
		code, data, err := d.Ext()
		if err != nil {
			return Value{}, err
		}
		if d.Conv {
			return Value{}, d.Verr(mpack.TextIntRange)
		}
		if code == -1 {
			return timestamp(d, data)
		}
		return Value{Kind: KindExt, Ext: code, Bin: append([]byte{}, data...)}, nil
	}
	return Value{}, mpack.InvalidOpcode(op, d.Pos-1)
}

// timestamp decodes a MessagePack timestamp the way msgspec turns it into
// a datetime (microsecond precision) and returns the Ext msgspec would
// write back for that datetime.
func timestamp(d *mpack.Dec, data []byte) (Value, error) {
	secs, nanos, ok := splitTimestamp(data)
	if !ok {
		return Value{}, d.Verr("Invalid MessagePack timestamp")
	}
	if nanos > 999999999 {
		return Value{}, d.Verr("Invalid MessagePack timestamp: nanoseconds out of range")
	}
	if secs < -62135596800 || secs > 253402300800 {
		return Value{}, d.Verr("Timestamp is out of range ")
	}
	micros := (nanos + 500) / 1000
	if micros == 1000000 {
		micros = 0
		secs++
	}
	return timestampValue(secs, micros*1000), nil
}

// splitTimestamp reads the seconds and nanoseconds of a MessagePack
// timestamp payload (4, 8 or 12 bytes).
func splitTimestamp(data []byte) (secs int64, nanos uint32, ok bool) {
	switch len(data) {
	case 4:
		return int64(binary.BigEndian.Uint32(data)), 0, true
	case 8:
		v := binary.BigEndian.Uint64(data)
		return int64(v & 0x3ffffffff), uint32(v >> 34), true
	case 12:
		return int64(binary.BigEndian.Uint64(data[4:])), binary.BigEndian.Uint32(data), true
	}
	return 0, 0, false
}

func timestampValue(secs int64, nanos uint32) Value {
	if secs>>34 == 0 {
		v := uint64(nanos)<<34 | uint64(secs)
		if v>>32 == 0 {
			return Value{Kind: KindExt, Ext: -1, Bin: binary.BigEndian.AppendUint32(nil, uint32(v))}
		}
		return Value{Kind: KindExt, Ext: -1, Bin: binary.BigEndian.AppendUint64(nil, v)}
	}
	b := binary.BigEndian.AppendUint32(nil, nanos)
	return Value{Kind: KindExt, Ext: -1, Bin: binary.BigEndian.AppendUint64(b, uint64(secs))}
}
