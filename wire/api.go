package wire

// The value and error types of wire's API, defined in package
// wire/internal/mpack (MessagePack in msgspec's forms) and package
// wire/msgspec (msgspec's Any-typed values), under their names here.

import (
	"github.com/lmfast/lmfast/wire/internal/mpack"
	"github.com/lmfast/lmfast/wire/msgspec"
)

// Int is any integer MessagePack can carry, in [-2^63, 2^64-1]. LMCache uses
// such values for KV chunk keys and p2p hashes (Python ints that msgspec
// encodes as uint64 when they exceed int64).
//
// When Neg is true the value is int64(Bits) and is negative; otherwise the
// value is Bits. Build values with IntOf or UintOf so that every number has
// exactly one representation; Int is comparable and usable as a map key.
// Its methods: Int64 and Uint64 (the value and whether it fits), String and
// AppendText (decimal), AppendMsgpack (the smallest encoding, as msgspec
// writes it).
type Int = mpack.Int

// IntOf returns the Int holding v.
func IntOf(v int64) Int { return mpack.IntOf(v) }

// UintOf returns the Int holding v.
func UintOf(v uint64) Int { return mpack.UintOf(v) }

// ParseInt parses a decimal integer in [-2^63, 2^64-1] (an optional leading
// '-' or '+', then digits).
func ParseInt(s string) (Int, error) { return mpack.ParseInt(s) }

// ErrIntRange reports a decimal integer outside [-2^63, 2^64-1].
var ErrIntRange = mpack.ErrIntRange

// Error is a decoding error. Error() is the text Python's str(e) gives for
// the equivalent msgspec exception, which the controller sends back in
// ErrorMsg.error; Class names the Python exception class. Caught reports
// whether LMCache's controller catches that class on its ROUTER sockets
// and answers with an ErrorMsg.
type Error = mpack.Error

// Python exception classes an Error can stand for.
const (
	// ClassDecodeError is msgspec.DecodeError (malformed or truncated input).
	ClassDecodeError = mpack.ClassDecodeError
	// ClassValidationError is msgspec.ValidationError (well-formed input of
	// the wrong shape).
	ClassValidationError = mpack.ClassValidationError
	// ClassUnicodeDecodeError is Python's UnicodeDecodeError (invalid UTF-8
	// in a str). The real controller does not catch it.
	ClassUnicodeDecodeError = mpack.ClassUnicodeDecodeError
	// ClassRecursionError is Python's RecursionError (nesting too deep). The
	// real controller does not catch it.
	ClassRecursionError = mpack.ClassRecursionError
	// ClassTypeError is Python's TypeError (e.g. an unhashable dict key). The
	// real controller does not catch it.
	ClassTypeError = mpack.ClassTypeError
	// ClassJSONDecodeError is json.JSONDecodeError (syntax errors of the
	// JSON form, package wire/pyjson).
	ClassJSONDecodeError = mpack.ClassJSONDecodeError
)

// Value is an ordered, generic value for Any-typed fields (such as
// HeartbeatCommand.args); package wire/msgspec documents it.
type Value = msgspec.Value

// Kind is the type of a Value.
type Kind = msgspec.Kind

// Value kinds (what msgspec decodes an Any-typed MessagePack value into).
const (
	KindNil   = msgspec.KindNil   // None
	KindBool  = msgspec.KindBool  // bool
	KindInt   = msgspec.KindInt   // int (Int)
	KindFloat = msgspec.KindFloat // float (always re-encoded as float64)
	KindStr   = msgspec.KindStr   // str
	KindBin   = msgspec.KindBin   // bytes
	KindArray = msgspec.KindArray // list (or tuple)
	KindMap   = msgspec.KindMap   // dict, insertion-ordered
	KindExt   = msgspec.KindExt   // msgspec.msgpack.Ext (or a timestamp, code -1)
)

// Entry is one key/value pair of a KindMap Value.
type Entry = msgspec.Entry

// Dict is an insertion-ordered Dict[str, Any].
type Dict = msgspec.Dict

// DictEntry is one entry of a Dict.
type DictEntry = msgspec.DictEntry

// Field is one named field of a GenericMsg.
type Field = msgspec.Field

// NilValue returns the None value.
func NilValue() Value { return msgspec.NilValue() }

// BoolValue returns a bool value.
func BoolValue(b bool) Value { return msgspec.BoolValue(b) }

// IntValue returns an int value.
func IntValue(i Int) Value { return msgspec.IntValue(i) }

// FloatValue returns a float value.
func FloatValue(f float64) Value { return msgspec.FloatValue(f) }

// StrValue returns a str value.
func StrValue(s string) Value { return msgspec.StrValue(s) }

// BinValue returns a bytes value.
func BinValue(b []byte) Value { return msgspec.BinValue(b) }

// ArrayValue returns a list value.
func ArrayValue(items ...Value) Value { return msgspec.ArrayValue(items...) }

// MapValue returns a dict value with the entries in the given order.
func MapValue(entries ...Entry) Value { return msgspec.MapValue(entries...) }

// ExtValue returns an Ext value.
func ExtValue(code int8, data []byte) Value { return msgspec.ExtValue(code, data) }

// BigIntValue returns a Python int outside the MessagePack range
// [-2^63, 2^64-1], given by its decimal digits. MessagePack cannot carry
// it: it is an Ext value holding the digits, which Convert reads as that
// int (out of range for an int field, converted for a float field).
func BigIntValue(digits string) Value { return msgspec.BigIntValue(digits) }
