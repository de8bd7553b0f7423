package pyjson

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/lmfast/lmfast/wire"
)

// Encode writes m in the golden `value` form: {"type": "<Class>", then the
// fields in declaration order}, with exact integers. It reads m's own
// MessagePack encoding back as a generic value (wire.DecodeValue), so
// every message, typed or generic, is written from one code path. Bytes
// are written as base64 strings and timestamps as RFC 3339 strings (as
// msgspec.json does); other Ext values, and dict keys other than str and
// int, have no JSON form and are an error.
func Encode(m wire.Msg) ([]byte, error) {
	v, err := wire.DecodeValue(m.AppendMsgpack(nil))
	if err != nil {
		return nil, err
	}
	var w writer
	w.value(v)
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

type writer struct {
	b   []byte
	err error
}

// fail keeps the first error.
func (w *writer) fail(msg string) {
	if w.err == nil {
		w.err = errors.New(msg)
	}
}

func (w *writer) value(v wire.Value) {
	switch v.Kind {
	case wire.KindNil:
		w.b = append(w.b, "null"...)
	case wire.KindBool:
		w.b = strconv.AppendBool(w.b, v.Bool)
	case wire.KindInt:
		w.b, _ = v.Int.AppendText(w.b)
	case wire.KindFloat:
		w.float(v.Float)
	case wire.KindStr:
		w.str(v.Str)
	case wire.KindBin:
		w.str(base64.StdEncoding.EncodeToString(v.Bin))
	case wire.KindArray:
		w.b = append(w.b, '[')
		for i := range v.Array {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.value(v.Array[i])
		}
		w.b = append(w.b, ']')
	case wire.KindMap:
		w.b = append(w.b, '{')
		for i, e := range v.Map {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			switch e.Key.Kind {
			case wire.KindStr:
				w.str(e.Key.Str)
			case wire.KindInt:
				w.str(e.Key.Int.String())
			default:
				w.fail("wire: ToJSON: dict key of kind " + e.Key.Kind.String() + " has no JSON form")
				w.str("")
			}
			w.b = append(w.b, ':')
			w.value(e.Value)
		}
		w.b = append(w.b, '}')
	case wire.KindExt:
		if t, ok := v.Time(); ok { // as msgspec.json writes a datetime: UTC, "Z"
			w.str(t.UTC().Format("2006-01-02T15:04:05.999999Z07:00"))
			return
		}
		w.fail("wire: ToJSON: Ext values have no JSON form")
		w.b = append(w.b, "null"...)
	}
}

// float writes a float so that it reads back as a float (msgspec's JSON
// writes NaN and infinities as null).
func (w *writer) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.b = append(w.b, "null"...)
		return
	}
	start := len(w.b)
	w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
	if !strings.ContainsAny(string(w.b[start:]), ".eEn") {
		w.b = append(w.b, ".0"...)
	}
}

const hexDigits = "0123456789abcdef"

func (w *writer) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.b = append(w.b, '\\', c)
		case c == '\n':
			w.b = append(w.b, '\\', 'n')
		case c == '\r':
			w.b = append(w.b, '\\', 'r')
		case c == '\t':
			w.b = append(w.b, '\\', 't')
		case c == '\b':
			w.b = append(w.b, '\\', 'b')
		case c == '\f':
			w.b = append(w.b, '\\', 'f')
		case c < 0x20 || c == 0x7f:
			w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '"')
}
