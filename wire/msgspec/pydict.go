package msgspec

// Python's dict semantics for decoded values: key equality (1 == 1.0 ==
// True, tuples elementwise), a repeated key keeping its first position,
// unhashable keys as TypeError.

import (
	"math"
	"strconv"

	"github.com/lmfast/lmfast/wire/internal/mpack"
)

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
				i = mpack.IntOf(int64(f))
			} else {
				i = mpack.UintOf(uint64(f))
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

// setDictEntry stores k=v in a Dict[str, Any] with Python's dict semantics;
// idx indexes out's keys once it is long enough to need it.
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

// unhashable returns the TypeError Python raises when v is used as a dict
// key (dicts and Ext objects are unhashable; arrays decode as tuples).
func unhashable(v Value) *mpack.Error {
	switch v.Kind {
	case KindMap:
		return &mpack.Error{Class: mpack.ClassTypeError, Msg: "unhashable type: 'dict'"}
	case KindExt:
		if v.Ext != -1 {
			return &mpack.Error{Class: mpack.ClassTypeError, Msg: "unhashable type: 'msgspec.msgpack.Ext'"}
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

// pyEqual reports whether two hashable values are equal as Python dict keys
// (1 == 1.0 == True, tuples elementwise).
func pyEqual(a, b Value) bool {
	an, aok := numOf(a)
	bn, bok := numOf(b)
	if aok && bok {
		return an.eq(bn)
	}
	if aok != bok || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindNil:
		return true
	case KindStr:
		return a.Str == b.Str
	case KindBin:
		return string(a.Bin) == string(b.Bin)
	case KindExt:
		return a.Ext == b.Ext && string(a.Bin) == string(b.Bin)
	case KindArray:
		if len(a.Array) != len(b.Array) {
			return false
		}
		for i := range a.Array {
			if !pyEqual(a.Array[i], b.Array[i]) {
				return false
			}
		}
		return true
	}
	return false
}

type pyNum struct {
	isFloat bool
	i       Int
	f       float64
}

func numOf(v Value) (pyNum, bool) {
	switch v.Kind {
	case KindBool:
		if v.Bool {
			return pyNum{i: mpack.UintOf(1)}, true
		}
		return pyNum{i: mpack.UintOf(0)}, true
	case KindInt:
		return pyNum{i: v.Int}, true
	case KindFloat:
		return pyNum{isFloat: true, f: v.Float}, true
	}
	return pyNum{}, false
}

func (a pyNum) eq(b pyNum) bool {
	switch {
	case !a.isFloat && !b.isFloat:
		return a.i == b.i
	case a.isFloat && b.isFloat:
		return a.f == b.f
	case a.isFloat:
		return floatEqInt(a.f, b.i)
	default:
		return floatEqInt(b.f, a.i)
	}
}

// floatEqInt compares exactly, like Python's float/int comparison.
func floatEqInt(f float64, i Int) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return false
	}
	if i.Neg {
		if f >= 0 || f < -9223372036854775808.0 {
			return false
		}
		return int64(f) == int64(i.Bits)
	}
	if f < 0 || f >= 18446744073709551616.0 {
		return false
	}
	return uint64(f) == i.Bits
}
