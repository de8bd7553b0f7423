package pyjson

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lmfast/lmfast/internal/pyfmt"
	"github.com/lmfast/lmfast/wire"
)

// Decode reads a message from JSON the way the controller's JSON path
// does: json.loads, then msgspec.convert(obj, type=Msg). It accepts the
// golden `value` form ({"type": "<Class>", ...fields}). Errors are
// *wire.Error values: JSONDecodeError (with Python's texts and positions)
// or UnicodeDecodeError for the document, msgspec's errors for the
// conversion.
func Decode(b []byte) (wire.Msg, error) {
	if msg := pyfmt.UTF8Error(b); msg != "" { // json.loads decodes bytes as UTF-8 first
		return nil, &wire.Error{Class: wire.ClassUnicodeDecodeError, Msg: msg}
	}
	v, err := parse(b)
	if err != nil {
		return nil, err
	}
	return wire.Convert(v)
}

// maxDepth stands in for Python's recursion limit, past which json.loads
// raises RecursionError.
const maxDepth = 1000

type parser struct {
	s     []byte
	pos   int
	depth int
}

// parse parses like Python's json.loads: duplicate keys keep their first
// position and last value; NaN, Infinity and -Infinity are accepted;
// integers outside the MessagePack range stay exact (see wire.Convert).
// Error texts follow Python's JSONDecodeError.
func parse(b []byte) (wire.Value, error) {
	p := parser{s: b}
	p.ws()
	v, err := p.value()
	if err != nil {
		return wire.Value{}, err
	}
	p.ws()
	if p.pos != len(p.s) {
		return wire.Value{}, p.err("Extra data", p.pos)
	}
	return v, nil
}

func (p *parser) err(msg string, at int) error {
	if at > len(p.s) {
		at = len(p.s)
	}
	prefix := p.s[:at]
	char := utf8.RuneCount(prefix)
	line := 1 + strings.Count(string(prefix), "\n")
	col := char + 1
	if i := strings.LastIndexByte(string(prefix), '\n'); i >= 0 {
		col = utf8.RuneCount(prefix[i+1:]) + 1
	}
	return &wire.Error{Class: wire.ClassJSONDecodeError, Msg: msg + ": line " + strconv.Itoa(line) + " column " +
		strconv.Itoa(col) + " (char " + strconv.Itoa(char) + ")"}
}

func (p *parser) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) lit(word string) bool {
	if strings.HasPrefix(string(p.s[p.pos:]), word) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *parser) value() (wire.Value, error) {
	if p.pos >= len(p.s) {
		return wire.Value{}, p.err("Expecting value", p.pos)
	}
	switch c := p.s[p.pos]; {
	case c == '"':
		s, err := p.str()
		return wire.StrValue(s), err
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == 'n' && p.lit("null"):
		return wire.NilValue(), nil
	case c == 't' && p.lit("true"):
		return wire.BoolValue(true), nil
	case c == 'f' && p.lit("false"):
		return wire.BoolValue(false), nil
	case c == 'N' && p.lit("NaN"):
		return wire.FloatValue(math.NaN()), nil
	case c == 'I' && p.lit("Infinity"):
		return wire.FloatValue(math.Inf(1)), nil
	case c == '-' && p.lit("-Infinity"):
		return wire.FloatValue(math.Inf(-1)), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return wire.Value{}, p.err("Expecting value", p.pos)
}

func (p *parser) number() (wire.Value, error) {
	start := p.pos
	i := p.pos
	if p.s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(p.s) && p.s[i] == '0' {
		i++
	} else if digits() == 0 {
		return wire.Value{}, p.err("Expecting value", start)
	}
	isFloat := false
	if i+1 < len(p.s) && p.s[i] == '.' && p.s[i+1] >= '0' && p.s[i+1] <= '9' {
		i++
		digits()
		isFloat = true
	}
	if i < len(p.s) && (p.s[i] == 'e' || p.s[i] == 'E') {
		j := i
		i++
		if i < len(p.s) && (p.s[i] == '+' || p.s[i] == '-') {
			i++
		}
		if digits() == 0 {
			i = j
		} else {
			isFloat = true
		}
	}
	p.pos = i
	text := string(p.s[start:i])
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return wire.Value{}, p.err("Expecting value", start)
		}
		return wire.FloatValue(f), nil
	}
	n, err := wire.ParseInt(text)
	if err != nil {
		// Python keeps arbitrary-precision ints; carry the digits along.
		return wire.BigIntValue(text), nil
	}
	return wire.IntValue(n), nil
}

func (p *parser) str() (string, error) {
	start := p.pos
	p.pos++
	var b []byte
	for {
		if p.pos >= len(p.s) {
			return "", p.err("Unterminated string starting at", start)
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(b) {
				b = []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
			}
			return string(b), nil
		case c < 0x20:
			return "", p.err("Invalid control character at", p.pos)
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.err("Unterminated string starting at", start)
			}
			e := p.s[p.pos+1]
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4(p.pos + 2)
				if !ok {
					return "", p.err("Invalid \\uXXXX escape", p.pos+1)
				}
				p.pos += 6
				if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+1 < len(p.s) && p.s[p.pos] == '\\' && p.s[p.pos+1] == 'u' {
					if r2, ok := p.hex4(p.pos + 2); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
						r = utf16.DecodeRune(r, r2)
						p.pos += 6
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", p.err("Invalid \\escape: "+pyfmt.Repr(string(rune(e))), p.pos)
			}
			p.pos += 2
		default:
			b = append(b, c)
			p.pos++
		}
	}
}

func (p *parser) hex4(at int) (rune, bool) {
	if at+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.s[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &wire.Error{Class: wire.ClassRecursionError, Msg: "maximum recursion depth exceeded while decoding a JSON document"}
	}
	return nil
}

func (p *parser) array() (wire.Value, error) {
	if err := p.enter(); err != nil {
		return wire.Value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++
	p.ws()
	out := []wire.Value{}
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return wire.ArrayValue(out...), nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return wire.Value{}, err
		}
		out = append(out, v)
		p.ws()
		if p.pos < len(p.s) && p.s[p.pos] == ']' {
			p.pos++
			return wire.ArrayValue(out...), nil
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ',' {
			return wire.Value{}, p.err("Expecting ',' delimiter", p.pos)
		}
		p.pos++
		p.ws()
	}
}

func (p *parser) object() (wire.Value, error) {
	if err := p.enter(); err != nil {
		return wire.Value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++
	p.ws()
	var m object
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return m.value(), nil
	}
	for {
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return wire.Value{}, p.err("Expecting property name enclosed in double quotes", p.pos)
		}
		k, err := p.str()
		if err != nil {
			return wire.Value{}, err
		}
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return wire.Value{}, p.err("Expecting ':' delimiter", p.pos)
		}
		p.pos++
		p.ws()
		v, err := p.value()
		if err != nil {
			return wire.Value{}, err
		}
		m.set(k, v)
		p.ws()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return m.value(), nil
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ',' {
			return wire.Value{}, p.err("Expecting ',' delimiter", p.pos)
		}
		p.pos++
		p.ws()
	}
}

// object is a dict being parsed: a repeated key keeps its first position
// and takes the last value, as in a Python dict.
type object struct {
	entries []wire.Entry
	index   map[string]int
}

func (o *object) set(k string, v wire.Value) {
	if i, ok := o.index[k]; ok {
		o.entries[i].Value = v
		return
	}
	if o.index == nil {
		o.index = make(map[string]int)
	}
	o.index[k] = len(o.entries)
	o.entries = append(o.entries, wire.Entry{Key: wire.StrValue(k), Value: v})
}

func (o *object) value() wire.Value {
	if o.entries == nil {
		o.entries = []wire.Entry{}
	}
	return wire.MapValue(o.entries...)
}
