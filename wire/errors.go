package wire

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

// utf8Error returns nil if b is valid UTF-8, else the UnicodeDecodeError
// CPython raises for b.decode("utf-8").
func utf8Error(b []byte) *Error {
	if utf8.Valid(b) {
		return nil
	}
	return &Error{Class: ClassUnicodeDecodeError, Msg: pyfmt.UTF8Error(b)}
}
