package mpack

import (
	"errors"
	"math"
	"strconv"
)

// Int is any integer MessagePack can carry, in [-2^63, 2^64-1]. LMCache uses
// such values for KV chunk keys and p2p hashes (Python ints that msgspec
// encodes as uint64 when they exceed int64).
//
// When Neg is true the value is int64(Bits) and is negative; otherwise the
// value is Bits. Build values with IntOf or UintOf so that every number has
// exactly one representation; Int is comparable and usable as a map key.
type Int struct {
	Neg  bool
	Bits uint64
}

// IntOf returns the Int holding v.
func IntOf(v int64) Int {
	if v < 0 {
		return Int{Neg: true, Bits: uint64(v)}
	}
	return Int{Bits: uint64(v)}
}

// UintOf returns the Int holding v.
func UintOf(v uint64) Int { return Int{Bits: v} }

// Int64 returns the value as an int64 and whether it fits.
func (i Int) Int64() (int64, bool) {
	if i.Neg {
		return int64(i.Bits), true
	}
	if i.Bits > math.MaxInt64 {
		return 0, false
	}
	return int64(i.Bits), true
}

// Uint64 returns the value as a uint64 and whether it fits (it is not negative).
func (i Int) Uint64() (uint64, bool) {
	if i.Neg {
		return 0, false
	}
	return i.Bits, true
}

// String returns the decimal form of the value.
func (i Int) String() string {
	if i.Neg {
		return strconv.FormatInt(int64(i.Bits), 10)
	}
	return strconv.FormatUint(i.Bits, 10)
}

// AppendText appends the decimal form of the value to dst.
func (i Int) AppendText(dst []byte) ([]byte, error) {
	if i.Neg {
		return strconv.AppendInt(dst, int64(i.Bits), 10), nil
	}
	return strconv.AppendUint(dst, i.Bits, 10), nil
}

// AppendMsgpack appends the smallest MessagePack encoding of the value, as
// msgspec writes it (positive values never use the signed forms).
func (i Int) AppendMsgpack(dst []byte) []byte {
	if i.Neg {
		return AppendInt(dst, int64(i.Bits))
	}
	return AppendUint(dst, i.Bits)
}

// ErrIntRange reports a decimal integer outside [-2^63, 2^64-1].
var ErrIntRange = errors.New("integer out of range [-2^63, 2^64-1]")

// ParseInt parses a decimal integer in [-2^63, 2^64-1] (an optional leading
// '-' or '+', then digits).
func ParseInt(s string) (Int, error) {
	if len(s) > 0 && s[0] == '-' {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return Int{}, ErrIntRange
			}
			return Int{}, err
		}
		return IntOf(v), nil
	}
	t := s
	if len(t) > 0 && t[0] == '+' {
		t = t[1:]
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return Int{}, ErrIntRange
		}
		return Int{}, err
	}
	return UintOf(v), nil
}
