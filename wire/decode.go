package wire

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/lmfast/lmfast/internal/pyfmt"
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
	if d.pos != len(d.b) {
		return nil, trailing(d.pos)
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
	return m, d.pos, nil
}

// DecodeValue decodes b, the whole of it one MessagePack value, as
// msgspec decodes an Any-typed field: maps are dicts with Python's key
// equality, arrays inside keys are tuples, timestamps are datetimes. A
// message's own encoding decodes to a KindMap whose first entry is the
// tag, then its fields in declaration order.
func DecodeValue(b []byte) (Value, error) {
	d := newDecoder(b, false)
	v, err := d.any(false)
	if err != nil {
		return Value{}, err
	}
	if d.pos != len(b) {
		return Value{}, trailing(d.pos)
	}
	return v, nil
}

// Convert builds a message from a Python object as
// msgspec.convert(obj, type=Msg) does: the rules of Decode, with
// msgspec.convert's type names in errors ("null", "list", "dict") and
// BigIntValue for ints beyond MessagePack's range.
func Convert(v Value) (Msg, error) {
	return newDecoder(v.AppendMsgpack(nil), true).msg()
}

// trailing is msgspec's error for bytes left after the message.
func trailing(pos int) error {
	return decodeErr("MessagePack data is malformed: trailing characters (byte " + strconv.Itoa(pos) + ")")
}

// maxDepth bounds container nesting, standing in for Python's recursion
// limit (msgspec raises RecursionError past it).
const maxDepth = 1000

// decoder reads one MessagePack message with msgspec's rules. With conv set
// it applies msgspec.convert's rules instead (Convert, whose Value is first
// turned into MessagePack; ext values then stand for integers outside the
// MessagePack range).
type decoder struct {
	b     []byte
	pos   int
	conv  bool
	depth int
	stack []pathElem
	inl   [8]pathElem // initial backing store of stack
	reuse *Decoder    // set by Decoder.Decode: the memory to reuse
}

func newDecoder(b []byte, conv bool) *decoder {
	d := &decoder{b: b, conv: conv}
	d.stack = d.inl[:0]
	return d
}

func (d *decoder) remaining() int { return len(d.b) - d.pos }

func (d *decoder) peek() (byte, error) {
	if d.pos >= len(d.b) {
		return 0, errTruncated
	}
	return d.b[d.pos], nil
}

func (d *decoder) next(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.pos {
		return nil, errTruncated
	}
	s := d.b[d.pos : d.pos+n]
	d.pos += n
	return s, nil
}

func (d *decoder) size(width int) (int, error) {
	s, err := d.next(width)
	if err != nil {
		return 0, err
	}
	switch width {
	case 1:
		return int(s[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(s)), nil
	default:
		return int(binary.BigEndian.Uint32(s)), nil
	}
}

// capFor bounds a preallocation for n elements by the bytes left (each
// element takes at least one byte).
func (d *decoder) capFor(n int) int {
	if r := d.remaining(); n > r {
		return r
	}
	return n
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return &Error{Class: ClassRecursionError, Msg: "maximum recursion depth exceeded while deserializing an object"}
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

func invalidOpcode(op byte, at int) *Error {
	const digits = "0123456789abcdef"
	return decodeErr("MessagePack data is malformed: invalid opcode '\\x" + string([]byte{digits[op>>4], digits[op&15]}) +
		"' (byte " + strconv.Itoa(at) + ")")
}

// opName is msgspec's mpack_error_expected naming (used for keys and tags).
func opName(op byte) string {
	switch {
	case op <= 0x7f || op >= 0xe0:
		return "int"
	case op >= 0xa0 && op <= 0xbf:
		return "str"
	case op >= 0x90 && op <= 0x9f:
		return "array"
	case op >= 0x80 && op <= 0x8f:
		return "object"
	}
	switch op {
	case 0xc0:
		return "null"
	case 0xc2, 0xc3:
		return "bool"
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		return "int"
	case 0xca, 0xcb:
		return "float"
	case 0xd9, 0xda, 0xdb:
		return "str"
	case 0xc4, 0xc5, 0xc6:
		return "bytes"
	case 0xdc, 0xdd:
		return "array"
	case 0xde, 0xdf:
		return "object"
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xc7, 0xc8, 0xc9:
		return "ext"
	}
	return "unknown"
}

// pyTypeName is the Python type name (tp_name) of what the value at op
// converts from in Convert.
func pyTypeName(op byte) string {
	switch opName(op) {
	case "null":
		return "NoneType"
	case "array":
		return "list"
	case "object":
		return "dict"
	case "ext":
		return "int"
	}
	return opName(op)
}

// wrongType consumes the value at the cursor the way msgspec does before
// finding that its type does not match (scalars whole, containers only
// their header) and returns the ValidationError.
func (d *decoder) wrongType(expected string) error {
	op, err := d.peek()
	if err != nil {
		return err
	}
	start := d.pos
	d.pos++
	got := ""
	skip := 0
	switch {
	case op <= 0x7f || op >= 0xe0:
		got = "int"
	case op >= 0xa0 && op <= 0xbf:
		got, skip = "str", int(op&0x1f)
	case op >= 0x90 && op <= 0x9f:
		got = "array"
	case op >= 0x80 && op <= 0x8f:
		got = "object"
	default:
		switch op {
		case 0xc0:
			got = "None"
			if d.conv {
				got = "null"
			}
		case 0xc2, 0xc3:
			got = "bool"
		case 0xcc, 0xd0:
			got, skip = "int", 1
		case 0xcd, 0xd1:
			got, skip = "int", 2
		case 0xce, 0xd2:
			got, skip = "int", 4
		case 0xcf, 0xd3:
			got, skip = "int", 8
		case 0xca:
			got, skip = "float", 4
		case 0xcb:
			got, skip = "float", 8
		case 0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6:
			w := 1 << ((op - 0xd9) % 3)
			got = "str"
			if op <= 0xc6 {
				w = 1 << (op - 0xc4)
				got = "bytes"
			}
			if skip, err = d.size(w); err != nil {
				return err
			}
		case 0xdc:
			got = "array"
			if _, err = d.size(2); err != nil {
				return err
			}
		case 0xdd:
			got = "array"
			if _, err = d.size(4); err != nil {
				return err
			}
		case 0xde:
			got = "object"
			if _, err = d.size(2); err != nil {
				return err
			}
		case 0xdf:
			got = "object"
			if _, err = d.size(4); err != nil {
				return err
			}
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
			got, skip = "ext", 1+(1<<(op-0xd4))
		case 0xc7, 0xc8, 0xc9:
			got = "ext"
			if skip, err = d.size(1 << (op - 0xc7)); err != nil {
				return err
			}
			skip++
		default:
			return invalidOpcode(op, start)
		}
	}
	if _, err := d.next(skip); err != nil {
		return err
	}
	if d.conv && got == "ext" {
		got = "int"
	}
	return d.expected(expected, got)
}

// skip passes over one complete value, checking it is well formed.
func (d *decoder) skip() error {
	for todo := uint64(1); todo > 0; todo-- {
		if d.pos >= len(d.b) {
			return errTruncated
		}
		op := d.b[d.pos]
		d.pos++
		var n int
		var err error
		switch {
		case op <= 0x7f || op >= 0xe0:
			continue
		case op >= 0xa0 && op <= 0xbf:
			n = int(op & 0x1f)
		case op >= 0x90 && op <= 0x9f:
			todo += uint64(op & 0x0f)
			continue
		case op >= 0x80 && op <= 0x8f:
			todo += 2 * uint64(op&0x0f)
			continue
		default:
			switch op {
			case 0xc0, 0xc2, 0xc3:
				continue
			case 0xcc, 0xd0:
				n = 1
			case 0xcd, 0xd1:
				n = 2
			case 0xce, 0xd2, 0xca:
				n = 4
			case 0xcf, 0xd3, 0xcb:
				n = 8
			case 0xd9, 0xc4:
				n, err = d.size(1)
			case 0xda, 0xc5:
				n, err = d.size(2)
			case 0xdb, 0xc6:
				n, err = d.size(4)
			case 0xdc, 0xdd, 0xde, 0xdf:
				w := 2
				if op == 0xdd || op == 0xdf {
					w = 4
				}
				if n, err = d.size(w); err != nil {
					return err
				}
				if op >= 0xde {
					todo += 2 * uint64(n)
				} else {
					todo += uint64(n)
				}
				continue
			case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
				n = 1 + 1<<(op-0xd4)
			case 0xc7, 0xc8, 0xc9:
				n, err = d.size(1 << (op - 0xc7))
				n++
			default:
				return invalidOpcode(op, d.pos-1)
			}
		}
		if err != nil {
			return err
		}
		if _, err := d.next(n); err != nil {
			return err
		}
	}
	return nil
}

// cstr reads a str in a key or tag position (msgspec mpack_decode_cstr):
// raw bytes, no UTF-8 check.
func (d *decoder) cstr() ([]byte, error) {
	op, err := d.peek()
	if err != nil {
		return nil, err
	}
	var n int
	switch {
	case op >= 0xa0 && op <= 0xbf:
		d.pos++
		n = int(op & 0x1f)
	case op == 0xd9 || op == 0xda || op == 0xdb:
		d.pos++
		if n, err = d.size(1 << (op - 0xd9)); err != nil {
			return nil, err
		}
	default:
		d.pos++
		if d.conv {
			return nil, d.expected("str", pyTypeName(op))
		}
		return nil, d.expected("str", opName(op))
	}
	return d.next(n)
}

// strBytes reads a str value (UTF-8 checked) or fails with
// "Expected `<expected>`".
func (d *decoder) strBytes(expected string) ([]byte, error) {
	op, err := d.peek()
	if err != nil {
		return nil, err
	}
	var n int
	switch {
	case op >= 0xa0 && op <= 0xbf:
		d.pos++
		n = int(op & 0x1f)
	case op == 0xd9 || op == 0xda || op == 0xdb:
		d.pos++
		if n, err = d.size(1 << (op - 0xd9)); err != nil {
			return nil, err
		}
	default:
		return nil, d.wrongType(expected)
	}
	s, err := d.next(n)
	if err != nil {
		return nil, err
	}
	if e := utf8Error(s); e != nil {
		return nil, e
	}
	return s, nil
}

func (d *decoder) str() (string, error) {
	s, err := d.strBytes("str")
	return string(s), err
}

func (d *decoder) optStr() (*string, error) {
	op, err := d.peek()
	if err != nil {
		return nil, err
	}
	if op == 0xc0 {
		d.pos++
		return nil, nil
	}
	s, err := d.strBytes("str | null")
	if err != nil {
		return nil, err
	}
	v := string(s)
	return &v, nil
}

// isIntOp reports whether op starts a MessagePack integer.
func isIntOp(op byte) bool {
	return op <= 0x7f || op >= 0xe0 || (op >= 0xcc && op <= 0xcf) || (op >= 0xd0 && op <= 0xd3)
}

// fastInt reads the msgpack integer at the start of b: its value and
// length, or length 0 when b does not start with a whole integer.
func fastInt(b []byte) (Int, int) {
	if len(b) == 0 {
		return Int{}, 0
	}
	op := b[0]
	switch {
	case op <= 0x7f:
		return UintOf(uint64(op)), 1
	case op >= 0xe0:
		return IntOf(int64(int8(op))), 1
	case op < 0xcc || op > 0xd3:
		return Int{}, 0
	}
	w := 1 << ((op - 0xcc) & 3)
	if len(b) < 1+w {
		return Int{}, 0
	}
	s := b[1 : 1+w]
	var u uint64
	switch w {
	case 1:
		u = uint64(s[0])
	case 2:
		u = uint64(binary.BigEndian.Uint16(s))
	case 4:
		u = uint64(binary.BigEndian.Uint32(s))
	default:
		u = binary.BigEndian.Uint64(s)
	}
	if op <= 0xcf {
		return UintOf(u), 1 + w
	}
	switch w { // signed forms: sign-extend
	case 1:
		return IntOf(int64(int8(u))), 2
	case 2:
		return IntOf(int64(int16(u))), 3
	case 4:
		return IntOf(int64(int32(u))), 5
	}
	return IntOf(int64(u)), 9
}

// rawInt reads an integer whose opcode was checked by isIntOp.
func (d *decoder) rawInt() (Int, error) {
	v, n := fastInt(d.b[d.pos:])
	if n == 0 { // an int op whose bytes run past the end
		return Int{}, errTruncated
	}
	d.pos += n
	return v, nil
}

var errIntRangeText = "Integer value out of range"

// bigInt reads an int field (any MessagePack integer).
func (d *decoder) bigInt() (Int, error) {
	op, err := d.peek()
	if err != nil {
		return Int{}, err
	}
	if isIntOp(op) {
		return d.rawInt()
	}
	if d.conv && isExtOp(op) {
		if err := d.skip(); err != nil {
			return Int{}, err
		}
		return Int{}, d.verr(errIntRangeText)
	}
	return Int{}, d.wrongType("int")
}

func isExtOp(op byte) bool { return (op >= 0xd4 && op <= 0xd8) || (op >= 0xc7 && op <= 0xc9) }

// int64 reads an int field held as int64; values above 2^63-1 (which
// msgspec would accept) are rejected.
func (d *decoder) int64() (int64, error) {
	v, err := d.bigInt()
	if err != nil {
		return 0, err
	}
	i, ok := v.Int64()
	if !ok {
		return 0, d.verr(errIntRangeText)
	}
	return i, nil
}

func (d *decoder) bool() (bool, error) {
	op, err := d.peek()
	if err != nil {
		return false, err
	}
	switch op {
	case 0xc2:
		d.pos++
		return false, nil
	case 0xc3:
		d.pos++
		return true, nil
	}
	return false, d.wrongType("bool")
}

// float reads a float field: floats, or ints converted as Python does.
func (d *decoder) float() (float64, error) {
	op, err := d.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op == 0xca:
		d.pos++
		s, err := d.next(4)
		if err != nil {
			return 0, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(s))), nil
	case op == 0xcb:
		d.pos++
		s, err := d.next(8)
		if err != nil {
			return 0, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case isIntOp(op):
		v, err := d.rawInt()
		if err != nil {
			return 0, err
		}
		if v.Neg {
			return float64(int64(v.Bits)), nil
		}
		return float64(v.Bits), nil
	case d.conv && isExtOp(op):
		// Convert: an integer beyond the MessagePack range (BigIntValue);
		// Python's float(int).
		_, digits, err := d.ext()
		if err != nil {
			return 0, err
		}
		f, err := strconv.ParseFloat(string(digits), 64)
		if err != nil {
			return 0, &Error{Class: "OverflowError", Msg: "int too large to convert to float"}
		}
		return f, nil
	}
	return 0, d.wrongType("float")
}

// arrayLen reads an array header or fails with "Expected `<expected>`".
func (d *decoder) arrayLen(expected string) (int, error) {
	op, err := d.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op >= 0x90 && op <= 0x9f:
		d.pos++
		return int(op & 0x0f), nil
	case op == 0xdc:
		d.pos++
		return d.size(2)
	case op == 0xdd:
		d.pos++
		return d.size(4)
	}
	return 0, d.wrongType(expected)
}

// mapLen reads a map header or fails with "Expected `<expected>`".
func (d *decoder) mapLen(expected string) (int, error) {
	op, err := d.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op >= 0x80 && op <= 0x8f:
		d.pos++
		return int(op & 0x0f), nil
	case op == 0xde:
		d.pos++
		return d.size(2)
	case op == 0xdf:
		d.pos++
		return d.size(4)
	}
	return 0, d.wrongType(expected)
}

// isNil consumes a nil if one is next.
func (d *decoder) isNil() (bool, error) {
	op, err := d.peek()
	if err != nil {
		return false, err
	}
	if op == 0xc0 {
		d.pos++
		return true, nil
	}
	return false, nil
}

func (d *decoder) intList() ([]Int, error) {
	n, err := d.arrayLen("array")
	if err != nil {
		return nil, err
	}
	out := make([]Int, 0, d.capFor(n))
	d.pushIndex()
	for i := 0; i < n; i++ {
		d.setIndex(i)
		v, err := d.bigInt()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d.pop()
	return nilIfEmpty(out), nil
}

func (d *decoder) int64List() ([]int64, error) {
	n, err := d.arrayLen("array")
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, d.capFor(n))
	d.pushIndex()
	for i := 0; i < n; i++ {
		d.setIndex(i)
		v, err := d.int64()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d.pop()
	return nilIfEmpty(out), nil
}

// invalidTag builds "Invalid value 'X'" for an unknown or mismatched tag.
func (d *decoder) invalidTag(tag []byte) error {
	if d.conv {
		return d.verr("Invalid value " + pyfmt.Repr(string(tag)))
	}
	if e := utf8Error(tag); e != nil {
		return e
	}
	return d.verr("Invalid value '" + string(tag) + "'")
}

// structSpec describes a msgspec Struct encoded as a map.
type structSpec struct {
	tagField string   // "" for untagged structs
	fields   []string // declaration order
	nreq     int      // leading fields without a default
}

func (s *structSpec) index(key []byte) int {
	for i, f := range s.fields {
		if f == string(key) {
			return i
		}
	}
	return -1
}

// fieldSetter decodes field i of a struct from the cursor.
type fieldSetter interface {
	setField(d *decoder, i int) error
}

// structBody decodes n map entries into t (msgspec mpack_decode_struct_map):
// any key order, repeated keys overwrite, unknown keys skipped, tag keys
// checked against tag, then missing required fields reported in
// declaration order.
func (d *decoder) structBody(n int, s *structSpec, tag string, t fieldSetter) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	var seen uint64
	for i := 0; i < n; i++ {
		d.pushKey()
		key, err := d.cstr()
		if err != nil {
			return err
		}
		d.pop()
		idx := s.index(key)
		if idx < 0 {
			if s.tagField != "" && string(key) == s.tagField {
				if d.conv { // convert: the tag was already read
					if err := d.skip(); err != nil {
						return err
					}
					continue
				}
				d.pushField(s.tagField)
				got, err := d.cstr()
				if err != nil {
					return err
				}
				if string(got) != tag {
					return d.invalidTag(got)
				}
				d.pop()
				continue
			}
			if ex, ok := t.(extraSetter); ok {
				if err := ex.setExtra(d, key); err != nil {
					return err
				}
				continue
			}
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		d.pushField(s.fields[idx])
		if err := t.setField(d, idx); err != nil {
			return err
		}
		d.pop()
		seen |= 1 << uint(idx)
	}
	for i := 0; i < s.nreq; i++ {
		if seen&(1<<uint(i)) == 0 {
			return d.missing(s.fields[i])
		}
	}
	return nil
}

// unionTag finds the tag of a tagged-union map of n entries starting at the
// cursor (msgspec mpack_decode_struct_union). It returns the tag bytes and
// the number of entries left to decode; the cursor is either just after the
// tag (tag first) or back at the first entry.
func (d *decoder) unionTag(n int, tagField string) ([]byte, int, error) {
	start := d.pos
	for i := 0; i < n; i++ {
		d.pushKey()
		key, err := d.cstr()
		if err != nil {
			return nil, 0, err
		}
		d.pop()
		if string(key) == tagField {
			d.pushField(tagField)
			tag, err := d.tagValue()
			if err != nil {
				return nil, 0, err
			}
			d.pop()
			if i == 0 {
				return tag, n - 1, nil
			}
			d.pos = start
			return tag, n, nil
		}
		if err := d.skip(); err != nil {
			return nil, 0, err
		}
	}
	return nil, 0, d.missing(tagField)
}

func (d *decoder) tagValue() ([]byte, error) {
	if d.conv {
		op, err := d.peek()
		if err != nil {
			return nil, err
		}
		if !(op >= 0xa0 && op <= 0xbf) && op != 0xd9 && op != 0xda && op != 0xdb {
			err := d.expected("str", pyTypeName(op))
			if e := d.skip(); e != nil {
				return nil, e
			}
			return nil, err
		}
	}
	return d.cstr()
}

func (d *decoder) msg() (Msg, error) {
	n, err := d.mapLen("object")
	if err != nil {
		return nil, err
	}
	tag, rest, err := d.unionTag(n, "type")
	if err != nil {
		return nil, err
	}
	c, ok := classes[string(tag)]
	if !ok {
		d.pushField("type")
		return nil, d.invalidTag(tag)
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

// ext reads an ext value whose opcode was checked by isExtOp.
func (d *decoder) ext() (int8, []byte, error) {
	op := d.b[d.pos]
	d.pos++
	var n int
	if op >= 0xd4 {
		n = 1 << (op - 0xd4)
	} else {
		var err error
		if n, err = d.size(1 << (op - 0xc7)); err != nil {
			return 0, nil, err
		}
	}
	c, err := d.next(1)
	if err != nil {
		return 0, nil, err
	}
	data, err := d.next(n)
	if err != nil {
		return 0, nil, err
	}
	return int8(c[0]), data, nil
}

// nilIfEmpty makes an empty list decode the same as a missing defaulted one.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
