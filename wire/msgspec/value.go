package msgspec

import (
	"strconv"
	"time"

	"github.com/lmfast/lmfast/wire/internal/mpack"
)

// Int is any integer MessagePack can carry, in [-2^63, 2^64-1] (package
// wire's Int).
type Int = mpack.Int

// Kind is the type of a Value.
type Kind uint8

// Value kinds (what msgspec decodes an Any-typed MessagePack value into).
const (
	KindNil   Kind = iota // None
	KindBool              // bool
	KindInt               // int (Int)
	KindFloat             // float (always re-encoded as float64)
	KindStr               // str
	KindBin               // bytes
	KindArray             // list (or tuple)
	KindMap               // dict, insertion-ordered
	KindExt               // msgspec.msgpack.Ext (or a timestamp, code -1)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindNil:
		return "nil"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindStr:
		return "str"
	case KindBin:
		return "bytes"
	case KindArray:
		return "array"
	case KindMap:
		return "map"
	case KindExt:
		return "ext"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is an ordered, generic value for Any-typed fields (such as
// HeartbeatCommand.args). Only the fields matching Kind are meaningful.
// Encoding a decoded Value gives back msgspec's bytes for the same object.
type Value struct {
	Kind  Kind
	Bool  bool
	Int   Int
	Float float64
	Str   string  // KindStr
	Bin   []byte  // KindBin and KindExt data
	Ext   int8    // KindExt code
	Array []Value // KindArray
	Map   []Entry // KindMap, in insertion order
}

// Entry is one key/value pair of a KindMap Value.
type Entry struct {
	Key, Value Value
}

// NilValue returns the None value.
func NilValue() Value { return Value{} }

// BoolValue returns a bool value.
func BoolValue(b bool) Value { return Value{Kind: KindBool, Bool: b} }

// IntValue returns an int value.
func IntValue(i Int) Value { return Value{Kind: KindInt, Int: i} }

// FloatValue returns a float value.
func FloatValue(f float64) Value { return Value{Kind: KindFloat, Float: f} }

// StrValue returns a str value.
func StrValue(s string) Value { return Value{Kind: KindStr, Str: s} }

// BinValue returns a bytes value.
func BinValue(b []byte) Value { return Value{Kind: KindBin, Bin: b} }

// ArrayValue returns a list value.
func ArrayValue(items ...Value) Value { return Value{Kind: KindArray, Array: items} }

// MapValue returns a dict value with the entries in the given order.
func MapValue(entries ...Entry) Value { return Value{Kind: KindMap, Map: entries} }

// ExtValue returns an Ext value.
func ExtValue(code int8, data []byte) Value { return Value{Kind: KindExt, Ext: code, Bin: data} }

// BigIntValue returns a Python int outside the MessagePack range
// [-2^63, 2^64-1], given by its decimal digits. MessagePack cannot carry
// it: it is an Ext value holding the digits, which wire.Convert reads as that
// int (out of range for an int field, converted for a float field).
func BigIntValue(digits string) Value { return ExtValue(bigIntExt, []byte(digits)) }

// Time returns the instant a timestamp value (KindExt with code -1, as
// Decode makes it from a MessagePack timestamp) holds.
func (v Value) Time() (time.Time, bool) {
	if v.Kind != KindExt || v.Ext != -1 {
		return time.Time{}, false
	}
	secs, nanos, ok := splitTimestamp(v.Bin)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(secs, int64(nanos)), true
}

// AppendMsgpack appends msgspec's encoding of v.
func (v Value) AppendMsgpack(dst []byte) []byte {
	switch v.Kind {
	case KindNil:
		return mpack.AppendNil(dst)
	case KindBool:
		return mpack.AppendBool(dst, v.Bool)
	case KindInt:
		return v.Int.AppendMsgpack(dst)
	case KindFloat:
		return mpack.AppendFloat(dst, v.Float)
	case KindStr:
		return mpack.AppendStr(dst, v.Str)
	case KindBin:
		return mpack.AppendBin(dst, v.Bin)
	case KindArray:
		dst = mpack.AppendArrayHeader(dst, len(v.Array))
		for i := range v.Array {
			dst = v.Array[i].AppendMsgpack(dst)
		}
		return dst
	case KindMap:
		dst = mpack.AppendMapHeader(dst, len(v.Map))
		for i := range v.Map {
			dst = v.Map[i].Key.AppendMsgpack(dst)
			dst = v.Map[i].Value.AppendMsgpack(dst)
		}
		return dst
	case KindExt:
		return mpack.AppendExt(dst, v.Ext, v.Bin)
	}
	return mpack.AppendNil(dst)
}

// DictEntry is one entry of a Dict.
type DictEntry struct {
	Key   string
	Value Value
}

// Dict is an insertion-ordered Dict[str, Any].
type Dict []DictEntry

// AppendMsgpack appends msgspec's encoding of d.
func (d Dict) AppendMsgpack(dst []byte) []byte {
	dst = mpack.AppendMapHeader(dst, len(d))
	for i := range d {
		dst = mpack.AppendStr(dst, d[i].Key)
		dst = d[i].Value.AppendMsgpack(dst)
	}
	return dst
}

// Get returns the value stored under key.
func (d Dict) Get(key string) (Value, bool) {
	for i := range d {
		if d[i].Key == key {
			return d[i].Value, true
		}
	}
	return Value{}, false
}

// Field is one named field of a message decoded generically (package
// wire's GenericMsg).
type Field struct {
	Name  string
	Value Value
}

// bigIntExt is BigIntValue's Ext code.
const bigIntExt = 0
