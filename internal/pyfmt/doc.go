// Package pyfmt writes values the way CPython prints them, for the texts
// lmfast keeps identical to LMCache's: Float is repr(float) and Round is
// round(x, n) (reports), Repr is repr(str) and UTF8Error the message of a
// failed bytes.decode("utf-8") (error texts).
package pyfmt
