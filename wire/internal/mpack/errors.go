package mpack

// Decoding errors as msgspec and CPython word them, with msgspec's error
// path (" - at `$.operations[3].key`").

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lmfast/lmfast/internal/pyfmt"
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
	// ClassJSONDecodeError is json.JSONDecodeError (syntax errors of the
	// JSON form, package wire/pyjson).
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

// TextIntRange is msgspec's text for an integer outside a field's range.
const TextIntRange = "Integer value out of range"

// Trailing is msgspec's error for bytes left after the value, the first of
// them at pos.
func Trailing(pos int) error {
	return decodeErr("MessagePack data is malformed: trailing characters (byte " + strconv.Itoa(pos) + ")")
}

// InvalidOpcode is msgspec's error for a byte at offset at that starts no
// MessagePack value.
func InvalidOpcode(op byte, at int) *Error {
	const digits = "0123456789abcdef"
	return decodeErr("MessagePack data is malformed: invalid opcode '\\x" + string([]byte{digits[op>>4], digits[op&15]}) +
		"' (byte " + strconv.Itoa(at) + ")")
}

// UTF8Error returns nil if b is valid UTF-8, else the UnicodeDecodeError
// CPython raises for b.decode("utf-8").
func UTF8Error(b []byte) *Error {
	if utf8.Valid(b) {
		return nil
	}
	return &Error{Class: ClassUnicodeDecodeError, Msg: pyfmt.UTF8Error(b)}
}

// Verr returns a ValidationError for msg at the current path.
func (d *Dec) Verr(msg string) *Error {
	return &Error{Class: ClassValidationError, Msg: msg + renderSuffix(d.stack)}
}

// Expected returns msgspec's "Expected `expected`, got `got`" at the
// current path.
func (d *Dec) Expected(expected, got string) *Error {
	return d.Verr("Expected `" + expected + "`, got `" + got + "`")
}

// Missing returns msgspec's error for a required field absent from a
// struct at the current path.
func (d *Dec) Missing(field string) *Error {
	return d.Verr("Object missing required field `" + field + "`")
}

// PushField enters the struct field name on the error path (`.name`).
func (d *Dec) PushField(name string) {
	d.stack = append(d.stack, pathElem{kind: pField, name: name})
}

// PushIndex enters an array element on the error path (`[i]`, set by
// SetIndex).
func (d *Dec) PushIndex() { d.stack = append(d.stack, pathElem{kind: pIndex}) }

// PushKey enters a map key on the error path (rendered as `key` in the map's path).
func (d *Dec) PushKey() { d.stack = append(d.stack, pathElem{kind: pKey}) }

// PushValues enters a map's value on the error path (`[...]`).
func (d *Dec) PushValues() { d.stack = append(d.stack, pathElem{kind: pEllipsis}) }

// KeyToValue turns the key PushKey entered into its map's value (`[...]`).
func (d *Dec) KeyToValue() { d.stack[len(d.stack)-1].kind = pEllipsis }

// SetIndex sets the index of the array element PushIndex entered.
func (d *Dec) SetIndex(i int) { d.stack[len(d.stack)-1].index = i }

// Pop leaves the innermost step of the error path.
func (d *Dec) Pop() { d.stack = d.stack[:len(d.stack)-1] }

// errTruncated is msgspec's error for input that ends inside a value.
var errTruncated = &Error{Class: ClassDecodeError, Msg: "Input data was truncated"}

// decodeErr returns a DecodeError with text msg.
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
