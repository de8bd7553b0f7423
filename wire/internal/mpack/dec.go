package mpack

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Dec reads MessagePack from B at Pos with msgspec's rules, keeping the
// error path of the value it is in. With Conv set it applies
// msgspec.convert's rules instead (wire.Convert, whose Python object is
// first turned into MessagePack; ext values then stand for integers
// outside the MessagePack range). Set it up with Reset.
type Dec struct {
	B     []byte // the input
	Pos   int    // the offset of the next byte to read
	Conv  bool   // msgspec.convert's rules
	depth int    // containers entered
	stack []pathElem
	inl   [8]pathElem // initial backing store of stack
}

// Reset makes d read b from its start, at depth 0 with an empty error
// path, keeping the path's memory.
func (d *Dec) Reset(b []byte, conv bool) {
	if d.stack == nil {
		d.stack = d.inl[:0]
	}
	d.B, d.Pos, d.Conv, d.depth, d.stack = b, 0, conv, 0, d.stack[:0]
}

// Peek returns the next byte without consuming it.
func (d *Dec) Peek() (byte, error) {
	if d.Pos >= len(d.B) {
		return 0, errTruncated
	}
	return d.B[d.Pos], nil
}

// Next consumes and returns the next n bytes.
func (d *Dec) Next(n int) ([]byte, error) {
	if n < 0 || n > len(d.B)-d.Pos {
		return nil, errTruncated
	}
	s := d.B[d.Pos : d.Pos+n]
	d.Pos += n
	return s, nil
}

// Size reads a big-endian length of width 1, 2 or 4 bytes.
func (d *Dec) Size(width int) (int, error) {
	s, err := d.Next(width)
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

// CapFor bounds a preallocation for n elements by the bytes left (each
// element takes at least one byte).
func (d *Dec) CapFor(n int) int {
	if r := d.remaining(); n > r {
		return r
	}
	return n
}

// Enter goes one container deeper, failing past maxDepth with Python's
// RecursionError.
func (d *Dec) Enter() error {
	d.depth++
	if d.depth > maxDepth {
		return &Error{Class: ClassRecursionError, Msg: "maximum recursion depth exceeded while deserializing an object"}
	}
	return nil
}

// Leave goes back out of the container Enter entered.
func (d *Dec) Leave() { d.depth-- }

// WrongType consumes the value at the cursor the way msgspec does before
// finding that its type does not match (scalars whole, containers only
// their header) and returns the ValidationError.
func (d *Dec) WrongType(expected string) error {
	op, err := d.Peek()
	if err != nil {
		return err
	}
	start := d.Pos
	d.Pos++
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
			if d.Conv {
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
			if skip, err = d.Size(w); err != nil {
				return err
			}
		case 0xdc:
			got = "array"
			if _, err = d.Size(2); err != nil {
				return err
			}
		case 0xdd:
			got = "array"
			if _, err = d.Size(4); err != nil {
				return err
			}
		case 0xde:
			got = "object"
			if _, err = d.Size(2); err != nil {
				return err
			}
		case 0xdf:
			got = "object"
			if _, err = d.Size(4); err != nil {
				return err
			}
		case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
			got, skip = "ext", 1+(1<<(op-0xd4))
		case 0xc7, 0xc8, 0xc9:
			got = "ext"
			if skip, err = d.Size(1 << (op - 0xc7)); err != nil {
				return err
			}
			skip++
		default:
			return InvalidOpcode(op, start)
		}
	}
	if _, err := d.Next(skip); err != nil {
		return err
	}
	if d.Conv && got == "ext" {
		got = "int"
	}
	return d.Expected(expected, got)
}

// Skip passes over one complete value, checking it is well formed.
func (d *Dec) Skip() error {
	for todo := uint64(1); todo > 0; todo-- {
		if d.Pos >= len(d.B) {
			return errTruncated
		}
		op := d.B[d.Pos]
		d.Pos++
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
				n, err = d.Size(1)
			case 0xda, 0xc5:
				n, err = d.Size(2)
			case 0xdb, 0xc6:
				n, err = d.Size(4)
			case 0xdc, 0xdd, 0xde, 0xdf:
				w := 2
				if op == 0xdd || op == 0xdf {
					w = 4
				}
				if n, err = d.Size(w); err != nil {
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
				n, err = d.Size(1 << (op - 0xc7))
				n++
			default:
				return InvalidOpcode(op, d.Pos-1)
			}
		}
		if err != nil {
			return err
		}
		if _, err := d.Next(n); err != nil {
			return err
		}
	}
	return nil
}

// CStr reads a str in a key or tag position (msgspec mpack_decode_cstr):
// raw bytes, no UTF-8 check.
func (d *Dec) CStr() ([]byte, error) {
	op, err := d.Peek()
	if err != nil {
		return nil, err
	}
	var n int
	switch {
	case op >= 0xa0 && op <= 0xbf:
		d.Pos++
		n = int(op & 0x1f)
	case op == 0xd9 || op == 0xda || op == 0xdb:
		d.Pos++
		if n, err = d.Size(1 << (op - 0xd9)); err != nil {
			return nil, err
		}
	default:
		d.Pos++
		if d.Conv {
			return nil, d.Expected("str", pyTypeName(op))
		}
		return nil, d.Expected("str", opName(op))
	}
	return d.Next(n)
}

// StrBytes reads a str value (UTF-8 checked) or fails with
// "Expected `<expected>`".
func (d *Dec) StrBytes(expected string) ([]byte, error) {
	op, err := d.Peek()
	if err != nil {
		return nil, err
	}
	var n int
	switch {
	case op >= 0xa0 && op <= 0xbf:
		d.Pos++
		n = int(op & 0x1f)
	case op == 0xd9 || op == 0xda || op == 0xdb:
		d.Pos++
		if n, err = d.Size(1 << (op - 0xd9)); err != nil {
			return nil, err
		}
	default:
		return nil, d.WrongType(expected)
	}
	s, err := d.Next(n)
	if err != nil {
		return nil, err
	}
	if e := UTF8Error(s); e != nil {
		return nil, e
	}
	return s, nil
}

// Str reads a str value.
func (d *Dec) Str() (string, error) {
	s, err := d.StrBytes("str")
	return string(s), err
}

// OptStr reads an Optional[str] value (nil for None).
func (d *Dec) OptStr() (*string, error) {
	op, err := d.Peek()
	if err != nil {
		return nil, err
	}
	if op == 0xc0 {
		d.Pos++
		return nil, nil
	}
	s, err := d.StrBytes("str | null")
	if err != nil {
		return nil, err
	}
	v := string(s)
	return &v, nil
}

// IsIntOp reports whether op starts a MessagePack integer.
func IsIntOp(op byte) bool {
	return op <= 0x7f || op >= 0xe0 || (op >= 0xcc && op <= 0xcf) || (op >= 0xd0 && op <= 0xd3)
}

// FastInt reads the msgpack integer at the start of b: its value and
// length, or length 0 when b does not start with a whole integer.
func FastInt(b []byte) (Int, int) {
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

// RawInt reads an integer whose opcode was checked by IsIntOp.
func (d *Dec) RawInt() (Int, error) {
	v, n := FastInt(d.B[d.Pos:])
	if n == 0 { // an int op whose bytes run past the end
		return Int{}, errTruncated
	}
	d.Pos += n
	return v, nil
}

// BigInt reads an int field (any MessagePack integer).
func (d *Dec) BigInt() (Int, error) {
	op, err := d.Peek()
	if err != nil {
		return Int{}, err
	}
	if IsIntOp(op) {
		return d.RawInt()
	}
	if d.Conv && IsExtOp(op) {
		if err := d.Skip(); err != nil {
			return Int{}, err
		}
		return Int{}, d.Verr(TextIntRange)
	}
	return Int{}, d.WrongType("int")
}

// IsExtOp reports whether op starts a MessagePack ext value.
func IsExtOp(op byte) bool { return (op >= 0xd4 && op <= 0xd8) || (op >= 0xc7 && op <= 0xc9) }

// Int64 reads an int field held as int64; values above 2^63-1 (which
// msgspec would accept) are rejected.
func (d *Dec) Int64() (int64, error) {
	v, err := d.BigInt()
	if err != nil {
		return 0, err
	}
	i, ok := v.Int64()
	if !ok {
		return 0, d.Verr(TextIntRange)
	}
	return i, nil
}

// Bool reads a bool value.
func (d *Dec) Bool() (bool, error) {
	op, err := d.Peek()
	if err != nil {
		return false, err
	}
	switch op {
	case 0xc2:
		d.Pos++
		return false, nil
	case 0xc3:
		d.Pos++
		return true, nil
	}
	return false, d.WrongType("bool")
}

// Float reads a float field: floats, or ints converted as Python does.
func (d *Dec) Float() (float64, error) {
	op, err := d.Peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op == 0xca:
		d.Pos++
		s, err := d.Next(4)
		if err != nil {
			return 0, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(s))), nil
	case op == 0xcb:
		d.Pos++
		s, err := d.Next(8)
		if err != nil {
			return 0, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case IsIntOp(op):
		v, err := d.RawInt()
		if err != nil {
			return 0, err
		}
		if v.Neg {
			return float64(int64(v.Bits)), nil
		}
		return float64(v.Bits), nil
	case d.Conv && IsExtOp(op):
		// Conv: an integer beyond the MessagePack range (wire.BigIntValue);
		// Python's float(int).
		_, digits, err := d.Ext()
		if err != nil {
			return 0, err
		}
		f, err := strconv.ParseFloat(string(digits), 64)
		if err != nil {
			return 0, &Error{Class: "OverflowError", Msg: "int too large to convert to float"}
		}
		return f, nil
	}
	return 0, d.WrongType("float")
}

// ArrayLen reads an array header or fails with "Expected `<expected>`".
func (d *Dec) ArrayLen(expected string) (int, error) {
	op, err := d.Peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op >= 0x90 && op <= 0x9f:
		d.Pos++
		return int(op & 0x0f), nil
	case op == 0xdc:
		d.Pos++
		return d.Size(2)
	case op == 0xdd:
		d.Pos++
		return d.Size(4)
	}
	return 0, d.WrongType(expected)
}

// MapLen reads a map header or fails with "Expected `<expected>`".
func (d *Dec) MapLen(expected string) (int, error) {
	op, err := d.Peek()
	if err != nil {
		return 0, err
	}
	switch {
	case op >= 0x80 && op <= 0x8f:
		d.Pos++
		return int(op & 0x0f), nil
	case op == 0xde:
		d.Pos++
		return d.Size(2)
	case op == 0xdf:
		d.Pos++
		return d.Size(4)
	}
	return 0, d.WrongType(expected)
}

// IsNil consumes a nil if one is next.
func (d *Dec) IsNil() (bool, error) {
	op, err := d.Peek()
	if err != nil {
		return false, err
	}
	if op == 0xc0 {
		d.Pos++
		return true, nil
	}
	return false, nil
}

// IntList reads a list[int] of any MessagePack integers (nil when empty).
func (d *Dec) IntList() ([]Int, error) {
	n, err := d.ArrayLen("array")
	if err != nil {
		return nil, err
	}
	out := make([]Int, 0, d.CapFor(n))
	d.PushIndex()
	for i := 0; i < n; i++ {
		d.SetIndex(i)
		v, err := d.BigInt()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d.Pop()
	return NilIfEmpty(out), nil
}

// Int64List reads a list[int] of int64 values (nil when empty).
func (d *Dec) Int64List() ([]int64, error) {
	n, err := d.ArrayLen("array")
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, d.CapFor(n))
	d.PushIndex()
	for i := 0; i < n; i++ {
		d.SetIndex(i)
		v, err := d.Int64()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d.Pop()
	return NilIfEmpty(out), nil
}

// Ext reads an ext value whose opcode was checked by IsExtOp.
func (d *Dec) Ext() (int8, []byte, error) {
	op := d.B[d.Pos]
	d.Pos++
	var n int
	if op >= 0xd4 {
		n = 1 << (op - 0xd4)
	} else {
		var err error
		if n, err = d.Size(1 << (op - 0xc7)); err != nil {
			return 0, nil, err
		}
	}
	c, err := d.Next(1)
	if err != nil {
		return 0, nil, err
	}
	data, err := d.Next(n)
	if err != nil {
		return 0, nil, err
	}
	return int8(c[0]), data, nil
}

// NilIfEmpty makes an empty list decode the same as a missing defaulted one.
func NilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// remaining returns the number of bytes left to read.
func (d *Dec) remaining() int { return len(d.B) - d.Pos }

// maxDepth bounds container nesting, standing in for Python's recursion
// limit (msgspec raises RecursionError past it).
const maxDepth = 1000

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
// converts from under msgspec.convert's rules (Conv).
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
