package mpack

import (
	"encoding/binary"
	"math"
)

// MessagePack writers, each producing the smallest form msgspec uses. They
// only ever grow dst.

// PutUint writes the msgpack form of v at the start of b, which has room
// for 9 bytes, and returns its length.
func PutUint(b []byte, v uint64) int {
	switch {
	case v < 0x80:
		b[0] = byte(v)
		return 1
	case v <= math.MaxUint8:
		b[0], b[1] = 0xcc, byte(v)
		return 2
	case v <= math.MaxUint16:
		b[0] = 0xcd
		binary.BigEndian.PutUint16(b[1:], uint16(v))
		return 3
	case v <= math.MaxUint32:
		b[0] = 0xce
		binary.BigEndian.PutUint32(b[1:], uint32(v))
		return 5
	default:
		b[0] = 0xcf
		binary.BigEndian.PutUint64(b[1:], v)
		return 9
	}
}

// PutInt is PutUint for signed values: non-negative ones take the unsigned
// forms, as msgspec writes them.
func PutInt(b []byte, v int64) int {
	switch {
	case v >= 0:
		return PutUint(b, uint64(v))
	case v >= -32:
		b[0] = byte(v)
		return 1
	case v >= math.MinInt8:
		b[0], b[1] = 0xd0, byte(v)
		return 2
	case v >= math.MinInt16:
		b[0] = 0xd1
		binary.BigEndian.PutUint16(b[1:], uint16(v))
		return 3
	case v >= math.MinInt32:
		b[0] = 0xd2
		binary.BigEndian.PutUint32(b[1:], uint32(v))
		return 5
	default:
		b[0] = 0xd3
		binary.BigEndian.PutUint64(b[1:], uint64(v))
		return 9
	}
}

// AppendUint appends the smallest encoding of v.
func AppendUint(dst []byte, v uint64) []byte {
	var b [9]byte
	return append(dst, b[:PutUint(b[:], v)]...)
}

// AppendInt appends the smallest encoding of v (unsigned forms for v >= 0).
func AppendInt(dst []byte, v int64) []byte {
	var b [9]byte
	return append(dst, b[:PutInt(b[:], v)]...)
}

// appendStrHeader appends the header of a str of n bytes.
func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(dst, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xda, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendStr appends s as a str.
func AppendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

// AppendBin appends b as bin (msgspec's bytes).
func AppendBin(dst []byte, b []byte) []byte {
	n := len(b)
	switch {
	case n <= math.MaxUint8:
		dst = append(dst, 0xc4, byte(n))
	case n <= math.MaxUint16:
		dst = append(dst, 0xc5, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, b...)
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xdc, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendMapHeader appends the header of a map of n entries.
func AppendMapHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x80|byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xde, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// AppendNil appends nil (None).
func AppendNil(dst []byte) []byte { return append(dst, 0xc0) }

// AppendBool appends b.
func AppendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

// AppendFloat always writes float64, as msgspec does.
func AppendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), math.Float64bits(f))
}

// AppendOptStr appends an Optional[str]: nil for a nil s.
func AppendOptStr(dst []byte, s *string) []byte {
	if s == nil {
		return AppendNil(dst)
	}
	return AppendStr(dst, *s)
}

// AppendExt appends an ext value of the given code, in the fixext form
// when data's length has one.
func AppendExt(dst []byte, code int8, data []byte) []byte {
	n := len(data)
	switch n {
	case 1:
		dst = append(dst, 0xd4, byte(code))
	case 2:
		dst = append(dst, 0xd5, byte(code))
	case 4:
		dst = append(dst, 0xd6, byte(code))
	case 8:
		dst = append(dst, 0xd7, byte(code))
	case 16:
		dst = append(dst, 0xd8, byte(code))
	default:
		switch {
		case n <= math.MaxUint8:
			dst = append(dst, 0xc7, byte(n), byte(code))
		case n <= math.MaxUint16:
			dst = append(dst, 0xc8, byte(n>>8), byte(n), byte(code))
		default:
			dst = append(dst, 0xc9, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), byte(code))
		}
	}
	return append(dst, data...)
}

// Tok returns the MessagePack encoding of s as a string, for pre-encoded keys
// and tags appended without allocation.
func Tok(s string) string { return string(AppendStr(nil, s)) }
