package pyfmt

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Repr is Python's repr(str): single quotes unless s contains a single
// quote and no double quote; the quote and backslash escaped; \t, \n, \r;
// \xhh for the other control characters; characters str.isprintable
// accepts as they are, the others as \xhh, \uhhhh or \Uhhhhhhhh. So
// U+00A0 (no-break space) and U+00AD (soft hyphen) are escaped and U+FFFD
// is printed. A byte that is not UTF-8 stands for U+FFFD, as
// decode(errors="replace") would make it.
func Repr(s string) string {
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
			writeHex(&b, `\x`, r, 2)
		case r < 0x7f || isPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			writeHex(&b, `\x`, r, 2)
		case r <= 0xffff:
			writeHex(&b, `\u`, r, 4)
		default:
			writeHex(&b, `\U`, r, 8)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// UTF8Error is the message of the UnicodeDecodeError CPython raises for
// b.decode("utf-8"), naming the first invalid sequence, or "" when b is
// valid UTF-8.
func UTF8Error(b []byte) string {
	if utf8.Valid(b) {
		return ""
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
			return utf8Message(b, i, i+1, "invalid start byte")
		}
		j := i + 1
		for k := 0; k < need; k++ {
			if j >= len(b) {
				return utf8Message(b, i, len(b), "unexpected end of data")
			}
			cc := b[j]
			l, h := byte(0x80), byte(0xbf)
			if k == 0 {
				l, h = lo, hi
			}
			if cc < l || cc > h {
				return utf8Message(b, i, j, "invalid continuation byte")
			}
			j++
		}
		i = j
	}
	return ""
}

// isPrintable is str.isprintable for one non-ASCII character: false for
// the categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs, which is Go's
// unicode.IsPrint outside ASCII.
func isPrintable(r rune) bool { return unicode.IsPrint(r) }

func writeHex(b *strings.Builder, prefix string, r rune, width int) {
	b.WriteString(prefix)
	b.WriteString(hex(uint64(r), width))
}

// hex is v in lowercase hex, zero-padded to width digits.
func hex(v uint64, width int) string {
	s := strconv.FormatUint(v, 16)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

func utf8Message(b []byte, start, end int, reason string) string {
	if end-start <= 1 {
		return "'utf-8' codec can't decode byte 0x" + hex(uint64(b[start]), 2) +
			" in position " + strconv.Itoa(start) + ": " + reason
	}
	return "'utf-8' codec can't decode bytes in position " + strconv.Itoa(start) + "-" +
		strconv.Itoa(end-1) + ": " + reason
}
