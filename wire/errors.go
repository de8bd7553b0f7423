package wire

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Python exception classes an Error can stand for.
const (
	// ClassDecodeError is msgspec.DecodeError (malformed or truncated input).
	ClassDecodeError = "DecodeError"
	// ClassValidationError is msgspec.ValidationError (well-formed input of
	// the wrong shape).
	ClassValidationError = "ValidationError"
	// ClassUnicodeDecodeError is Python's UnicodeDecodeError (invalid UTF-8
	// in a str). The real controller does not catch it.
	ClassUnicodeDecodeError = "UnicodeDecodeError"
	// ClassRecursionError is Python's RecursionError (nesting too deep). The
	// real controller does not catch it.
	ClassRecursionError = "RecursionError"
	// ClassTypeError is Python's TypeError (e.g. an unhashable dict key). The
	// real controller does not catch it.
	ClassTypeError = "TypeError"
	// ClassJSONDecodeError is json.JSONDecodeError (FromJSON syntax errors;
	// the text is Go's, not Python's).
	ClassJSONDecodeError = "JSONDecodeError"
)

// Error is a decoding error. Error() is the text Python's str(e) gives for
// the equivalent msgspec exception, which the controller sends back in
// ErrorMsg.error; Class names the Python exception class.
type Error struct {
	Class string
	Msg   string
}

// Error returns the message text.
func (e *Error) Error() string { return e.Msg }

// Caught reports whether LMCache's controller catches this exception class
// on its ROUTER sockets (msgspec.DecodeError, msgspec.ValidationError,
// json.JSONDecodeError) and answers with an ErrorMsg.
func (e *Error) Caught() bool {
	switch e.Class {
	case ClassDecodeError, ClassValidationError, ClassJSONDecodeError:
		return true
	}
	return false
}

var errTruncated = &Error{Class: ClassDecodeError, Msg: "Input data was truncated"}

func decodeErr(msg string) *Error { return &Error{Class: ClassDecodeError, Msg: msg} }

// pathElem is one step of msgspec's error path (`$.a[0].b`). The decoder
// keeps the current path as a stack and renders it only on error.
type pathElem struct {
	kind  uint8
	name  string
	index int
}

const (
	pField uint8 = iota
	pIndex
	pKey
	pEllipsis
)

// renderSuffix renders " - at `$...`" as msgspec's PathNode_ErrSuffix does,
// or "" for the root.
func renderSuffix(stack []pathElem) string {
	if len(stack) == 0 {
		return ""
	}
	var groups []string
	var b strings.Builder
	b.WriteString("`$")
	for _, n := range stack {
		switch n.kind {
		case pField:
			b.WriteByte('.')
			b.WriteString(n.name)
		case pIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(n.index))
			b.WriteByte(']')
		case pEllipsis:
			b.WriteString("[...]")
		case pKey:
			b.WriteByte('`')
			groups = append(groups, b.String())
			b.Reset()
			b.WriteString("`key")
		}
	}
	b.WriteByte('`')
	groups = append(groups, b.String())
	for i, j := 0, len(groups)-1; i < j; i, j = i+1, j-1 {
		groups[i], groups[j] = groups[j], groups[i]
	}
	return " - at " + strings.Join(groups, " in ")
}

func (d *decoder) pushField(name string) {
	d.stack = append(d.stack, pathElem{kind: pField, name: name})
}
func (d *decoder) pushIndex()     { d.stack = append(d.stack, pathElem{kind: pIndex}) }
func (d *decoder) pushKey()       { d.stack = append(d.stack, pathElem{kind: pKey}) }
func (d *decoder) pushValues()    { d.stack = append(d.stack, pathElem{kind: pEllipsis}) }
func (d *decoder) setIndex(i int) { d.stack[len(d.stack)-1].index = i }
func (d *decoder) pop()           { d.stack = d.stack[:len(d.stack)-1] }

// verr returns a ValidationError for msg at the current path.
func (d *decoder) verr(msg string) *Error {
	return &Error{Class: ClassValidationError, Msg: msg + renderSuffix(d.stack)}
}

func (d *decoder) expected(expected, got string) *Error {
	return d.verr("Expected `" + expected + "`, got `" + got + "`")
}

func (d *decoder) missing(field string) *Error {
	return d.verr("Object missing required field `" + field + "`")
}

// pyRepr renders s as Python's repr(str) does.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(uint64(r), 2))
		case r < 0x7f:
			b.WriteRune(r)
		case isPyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x`)
			b.WriteString(hex2(uint64(r), 2))
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(hex2(uint64(r), 4))
		default:
			b.WriteString(`\U`)
			b.WriteString(hex2(uint64(r), 8))
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// isPyPrintable approximates Python's str.isprintable for one non-ASCII rune.
func isPyPrintable(r rune) bool {
	if r == 0xa0 || r == 0xad { // NBSP (Zs) and soft hyphen (Cf) are not printable
		return false
	}
	return unicode.IsPrint(r)
}

func hex2(v uint64, width int) string {
	s := strconv.FormatUint(v, 16)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// utf8Error returns nil if b is valid UTF-8, else the UnicodeDecodeError
// CPython raises for b.decode("utf-8").
func utf8Error(b []byte) *Error {
	if utf8.Valid(b) {
		return nil
	}
	i := 0
	for i < len(b) {
		c := b[i]
		if c < 0x80 {
			i++
			continue
		}
		var need int
		lo, hi := byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			need = 1
		case c == 0xe0:
			need, lo = 2, 0xa0
		case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
			need = 2
		case c == 0xed:
			need, hi = 2, 0x9f
		case c == 0xf0:
			need, lo = 3, 0x90
		case c >= 0xf1 && c <= 0xf3:
			need = 3
		case c == 0xf4:
			need, hi = 3, 0x8f
		default:
			return unicodeErr(b, i, i+1, "invalid start byte")
		}
		j := i + 1
		for k := 0; k < need; k++ {
			if j >= len(b) {
				return unicodeErr(b, i, len(b), "unexpected end of data")
			}
			cc := b[j]
			l, h := byte(0x80), byte(0xbf)
			if k == 0 {
				l, h = lo, hi
			}
			if cc < l || cc > h {
				return unicodeErr(b, i, j, "invalid continuation byte")
			}
			j++
		}
		i = j
	}
	return nil
}

func unicodeErr(b []byte, start, end int, reason string) *Error {
	var msg string
	if end-start <= 1 {
		msg = "'utf-8' codec can't decode byte 0x" + hex2(uint64(b[start]), 2) +
			" in position " + strconv.Itoa(start) + ": " + reason
	} else {
		msg = "'utf-8' codec can't decode bytes in position " + strconv.Itoa(start) + "-" +
			strconv.Itoa(end-1) + ": " + reason
	}
	return &Error{Class: ClassUnicodeDecodeError, Msg: msg}
}
