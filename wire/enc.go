package wire

import (
	"encoding/binary"
	"math"
)

// Low-level MessagePack writers, each producing the smallest form msgspec
// uses. They only ever grow dst.

// putUint writes the msgpack form of v at the start of b, which has room
// for 9 bytes, and returns its length.
func putUint(b []byte, v uint64) int {
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

// putInt is putUint for signed values: non-negative ones take the unsigned
// forms, as msgspec writes them.
func putInt(b []byte, v int64) int {
	switch {
	case v >= 0:
		return putUint(b, uint64(v))
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

func appendUint(dst []byte, v uint64) []byte {
	var b [9]byte
	return append(dst, b[:putUint(b[:], v)]...)
}

func appendInt(dst []byte, v int64) []byte {
	var b [9]byte
	return append(dst, b[:putInt(b[:], v)]...)
}

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

func appendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

func appendBin(dst []byte, b []byte) []byte {
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

func appendArrayHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xdc, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func appendMapHeader(dst []byte, n int) []byte {
	switch {
	case n < 16:
		return append(dst, 0x80|byte(n))
	case n <= math.MaxUint16:
		return append(dst, 0xde, byte(n>>8), byte(n))
	default:
		return append(dst, 0xdf, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func appendNil(dst []byte) []byte { return append(dst, 0xc0) }

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 0xc3)
	}
	return append(dst, 0xc2)
}

// appendFloat always writes float64, as msgspec does.
func appendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), math.Float64bits(f))
}

func appendOptStr(dst []byte, s *string) []byte {
	if s == nil {
		return appendNil(dst)
	}
	return appendStr(dst, *s)
}

func appendExt(dst []byte, code int8, data []byte) []byte {
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

// tok returns the MessagePack encoding of s as a string, for pre-encoded keys
// and tags appended without allocation.
func tok(s string) string { return string(appendStr(nil, s)) }
