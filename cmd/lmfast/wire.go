package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strconv"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/pyjson"
)

// wireCmd converts LMCache controller messages between the JSON form of the
// golden vectors and msgspec's MessagePack bytes.
type wireCmd struct {
	Encode wireEncodeCmd `cmd:"" help:"Read one JSON message per line from stdin; print its MessagePack bytes as a lowercase hex line."`
	Decode wireDecodeCmd `cmd:"" help:"Read hex lines (or, with --raw, raw MessagePack) from stdin; print one JSON message per line."`
}

// wireEncodeCmd is "lmfast wire encode".
type wireEncodeCmd struct {
	Raw bool `help:"Write the encoded messages as raw concatenated MessagePack instead of hex lines."`
}

// wireDecodeCmd is "lmfast wire decode".
type wireDecodeCmd struct {
	Raw bool `help:"Read stdin as raw MessagePack: one message or several concatenated back to back."`
}

// maxLine bounds one input line (a 64 MiB message is far beyond any real
// controller message).
const maxLine = 64 << 20

// Run encodes each non-blank JSON line of stdin.
func (c *wireEncodeCmd) Run(a *app) error {
	out := bufio.NewWriter(a.stdout)
	var buf []byte
	err := eachLine(a.stdin, func(n int, line []byte) error {
		m, err := pyjson.Decode(line)
		if err != nil {
			return badInput("line %d: %s", n, err)
		}
		buf = m.AppendMsgpack(buf[:0])
		if c.Raw {
			_, err = out.Write(buf)
			return err
		}
		hexed := hex.AppendEncode(nil, buf)
		_, err = out.Write(append(hexed, '\n'))
		return err
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// Run decodes hex lines, or the raw stream with --raw.
func (c *wireDecodeCmd) Run(a *app) error {
	out := bufio.NewWriter(a.stdout)
	var err error
	if c.Raw {
		err = decodeRaw(a.stdin, out)
	} else {
		err = eachLine(a.stdin, func(n int, line []byte) error {
			b, err := hex.DecodeString(string(stripSpace(line)))
			if err != nil {
				return badInput("line %d: invalid hex: %s", n, err)
			}
			m, err := wire.Decode(b)
			if err != nil {
				return badInput("line %d: %s", n, err)
			}
			return writeJSON(out, m, "line "+strconv.Itoa(n))
		})
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

func decodeRaw(r io.Reader, out *bufio.Writer) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for off, i := 0, 1; off < len(b); i++ {
		m, n, err := wire.DecodeNext(b[off:])
		if err != nil {
			return badInput("message %d (byte %d): %s", i, off, err)
		}
		if err := writeJSON(out, m, "message "+strconv.Itoa(i)); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func writeJSON(out *bufio.Writer, m wire.Msg, where string) error {
	js, err := pyjson.Encode(m)
	if err != nil {
		return badInput("%s: %s", where, err)
	}
	_, err = out.Write(append(js, '\n'))
	return err
}

// eachLine calls fn with each non-blank line of r (numbered from 1),
// without its line ending.
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return badInput("line %d: longer than %d bytes", n+1, maxLine)
		}
		return err
	}
	return nil
}

// stripSpace drops blanks inside a hex line ("85 a4 74 ..." is accepted).
func stripSpace(b []byte) []byte {
	out := b[:0:0]
	for _, c := range b {
		if c != ' ' && c != '\t' {
			out = append(out, c)
		}
	}
	return out
}
