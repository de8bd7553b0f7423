package wire

// Any-typed values as msgspec decodes them into Python objects: dicts with
// Python's key equality (1 == 1.0 == True, a repeated key keeping its first
// position), unhashable keys as TypeError, timestamps at datetime's
// microsecond precision.

import (
	"encoding/binary"
	"math"
	"strconv"
)

// any decodes an Any-typed value as msgspec does (isKey: a dict key, where
// arrays become tuples and dicts are unhashable).
func (d *decoder) any(isKey bool) (Value, error) {
	op, err := d.peek()
	if err != nil {
		return Value{}, err
	}
	switch {
	case isIntOp(op):
		i, err := d.rawInt()
		return Value{Kind: KindInt, Int: i}, err
	case op >= 0xa0 && op <= 0xbf, op == 0xd9, op == 0xda, op == 0xdb:
		s, err := d.strBytes("any")
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindStr, Str: string(s)}, nil
	case op >= 0x90 && op <= 0x9f, op == 0xdc, op == 0xdd:
		n, err := d.arrayLen("any")
		if err != nil {
			return Value{}, err
		}
		if err := d.enter(); err != nil {
			return Value{}, err
		}
		defer d.leave()
		out := make([]Value, 0, min(d.capFor(n), 16))
		d.pushIndex()
		for i := 0; i < n; i++ {
			d.setIndex(i)
			v, err := d.any(isKey)
			if err != nil {
				return Value{}, err
			}
			out = append(out, v)
		}
		d.pop()
		return Value{Kind: KindArray, Array: out}, nil
	case op >= 0x80 && op <= 0x8f, op == 0xde, op == 0xdf:
		n, err := d.mapLen("any")
		if err != nil {
			return Value{}, err
		}
		if err := d.enter(); err != nil {
			return Value{}, err
		}
		defer d.leave()
		var m anyMap
		m.entries = make([]Entry, 0, min(d.capFor(n), 16))
		for i := 0; i < n; i++ {
			d.pushKey()
			k, err := d.any(true)
			if err != nil {
				return Value{}, err
			}
			d.stack[len(d.stack)-1].kind = pEllipsis
			v, err := d.any(false)
			if err != nil {
				return Value{}, err
			}
			d.pop()
			if e := unhashable(k); e != nil {
				return Value{}, e
			}
			m.set(k, v)
		}
		return Value{Kind: KindMap, Map: m.entries}, nil
	}
	d.pos++
	switch op {
	case 0xc0:
		return Value{}, nil
	case 0xc2:
		return Value{Kind: KindBool}, nil
	case 0xc3:
		return Value{Kind: KindBool, Bool: true}, nil
	case 0xca:
		s, err := d.next(4)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindFloat, Float: float64(math.Float32frombits(binary.BigEndian.Uint32(s)))}, nil
	case 0xcb:
		s, err := d.next(8)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindFloat, Float: math.Float64frombits(binary.BigEndian.Uint64(s))}, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := d.size(1 << (op - 0xc4))
		if err != nil {
			return Value{}, err
		}
		s, err := d.next(n)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: KindBin, Bin: append([]byte{}, s...)}, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0xc8, 0xc9:
		d.pos--
		code, data, err := d.ext()
		if err != nil {
			return Value{}, err
		}
		if d.conv {
			return Value{}, d.verr(errIntRangeText)
		}
		if code == -1 {
			return d.timestamp(data)
		}
		return Value{Kind: KindExt, Ext: code, Bin: append([]byte{}, data...)}, nil
	}
	return Value{}, invalidOpcode(op, d.pos-1)
}

// timestamp decodes a MessagePack timestamp the way msgspec turns it into
// a datetime (microsecond precision) and returns the Ext msgspec would
// write back for that datetime.
func (d *decoder) timestamp(data []byte) (Value, error) {
	secs, nanos, ok := splitTimestamp(data)
	if !ok {
		return Value{}, d.verr("Invalid MessagePack timestamp")
	}
	if nanos > 999999999 {
		return Value{}, d.verr("Invalid MessagePack timestamp: nanoseconds out of range")
	}
	if secs < -62135596800 || secs > 253402300800 {
		return Value{}, d.verr("Timestamp is out of range ")
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

// anyMap builds a dict with Python semantics: a key equal to an earlier one
// (1 == 1.0 == True) keeps the earlier key and position and takes the new
// value.
type anyMap struct {
	entries []Entry
	index   map[string]int
}

func (m *anyMap) set(k, v Value) {
	ck, hashable := canonKey(k)
	if len(m.entries) < 16 && m.index == nil {
		if hashable {
			for i := range m.entries {
				if pyEqual(m.entries[i].Key, k) {
					m.entries[i].Value = v
					return
				}
			}
		}
		m.entries = append(m.entries, Entry{k, v})
		return
	}
	if m.index == nil {
		m.index = make(map[string]int, 2*len(m.entries))
		for i := range m.entries {
			if c, ok := canonKey(m.entries[i].Key); ok {
				if _, dup := m.index[c]; !dup {
					m.index[c] = i
				}
			}
		}
	}
	if hashable {
		if i, ok := m.index[ck]; ok {
			m.entries[i].Value = v
			return
		}
		m.index[ck] = len(m.entries)
	}
	m.entries = append(m.entries, Entry{k, v})
}

// canonKey returns a string equal for exactly the keys Python considers
// equal; ok is false for keys never equal to anything (containing NaN).
func canonKey(v Value) (string, bool) {
	b, ok := appendCanon(nil, v)
	return string(b), ok
}

func appendCanon(b []byte, v Value) ([]byte, bool) {
	switch v.Kind {
	case KindNil:
		return append(b, 'n'), true
	case KindBool:
		if v.Bool {
			return append(b, 'i', '1', ';'), true
		}
		return append(b, 'i', '0', ';'), true
	case KindInt:
		b = append(b, 'i')
		b, _ = v.Int.AppendText(b)
		return append(b, ';'), true
	case KindFloat:
		f := v.Float
		if math.IsNaN(f) {
			return b, false
		}
		if f == math.Trunc(f) && f >= -9223372036854775808.0 && f < 18446744073709551616.0 {
			var i Int
			if f < 0 {
				i = IntOf(int64(f))
			} else {
				i = UintOf(uint64(f))
			}
			b = append(b, 'i')
			b, _ = i.AppendText(b)
			return append(b, ';'), true
		}
		b = append(b, 'f')
		b = strconv.AppendUint(b, math.Float64bits(f+0), 16)
		return append(b, ';'), true
	case KindStr:
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(len(v.Str)), 10)
		b = append(b, ':')
		return append(b, v.Str...), true
	case KindBin:
		b = append(b, 'b')
		b = strconv.AppendInt(b, int64(len(v.Bin)), 10)
		b = append(b, ':')
		return append(b, v.Bin...), true
	case KindExt:
		b = append(b, 'e')
		b = strconv.AppendInt(b, int64(v.Ext), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(len(v.Bin)), 10)
		b = append(b, ':')
		return append(b, v.Bin...), true
	case KindArray:
		b = append(b, 't')
		b = strconv.AppendInt(b, int64(len(v.Array)), 10)
		b = append(b, '(')
		for i := range v.Array {
			var ok bool
			if b, ok = appendCanon(b, v.Array[i]); !ok {
				return b, false
			}
		}
		return append(b, ')'), true
	}
	return b, false
}

// unhashable returns the TypeError Python raises when v is used as a dict
// key (dicts and Ext objects are unhashable; arrays decode as tuples).
func unhashable(v Value) *Error {
	switch v.Kind {
	case KindMap:
		return &Error{Class: ClassTypeError, Msg: "unhashable type: 'dict'"}
	case KindExt:
		if v.Ext != -1 {
			return &Error{Class: ClassTypeError, Msg: "unhashable type: 'msgspec.msgpack.Ext'"}
		}
	case KindArray:
		for i := range v.Array {
			if e := unhashable(v.Array[i]); e != nil {
				return e
			}
		}
	}
	return nil
}
