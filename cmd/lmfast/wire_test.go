package main

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/wire/wiretest"
)

func TestWireEncodeDecodeGolden(t *testing.T) {
	golden := wiretest.Load(t)
	var in strings.Builder
	for _, g := range golden {
		in.Write(g.Value)
		in.WriteString("\n\n") // blank lines are skipped
	}
	var out, errb bytes.Buffer
	if code := run([]string{"wire", "encode"}, strings.NewReader(in.String()), &out, &errb); code != ExitOK {
		t.Fatalf("encode exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(golden) {
		t.Fatalf("%d output lines for %d vectors", len(lines), len(golden))
	}
	for i, g := range golden {
		if lines[i] != g.Hex {
			t.Errorf("%s: got %s\nwant %s", g.Name, lines[i], g.Hex)
		}
	}

	var js, errd bytes.Buffer
	if code := run([]string{"wire", "decode"}, strings.NewReader(out.String()), &js, &errd); code != ExitOK {
		t.Fatalf("decode exit %d: %s", code, errd.String())
	}
	jlines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	for i, g := range golden {
		if !wiretest.JSONEqual(t, []byte(jlines[i]), g.Value) {
			t.Errorf("%s: decode got %s\nwant %s", g.Name, jlines[i], g.Value)
		}
	}

	// --raw: the concatenation of all messages decodes to the same lines.
	var rawIn []byte
	for _, g := range golden {
		b, _ := hex.DecodeString(g.Hex)
		rawIn = append(rawIn, b...)
	}
	var rawOut, rawErr bytes.Buffer
	if code := run([]string{"wire", "decode", "--raw"}, bytes.NewReader(rawIn), &rawOut, &rawErr); code != ExitOK {
		t.Fatalf("decode --raw exit %d: %s", code, rawErr.String())
	}
	if rawOut.String() != js.String() {
		t.Errorf("decode --raw differs from hex decode")
	}
	var encRaw, encRawErr bytes.Buffer
	if code := run([]string{"wire", "encode", "--raw"}, strings.NewReader(in.String()), &encRaw, &encRawErr); code != ExitOK || !bytes.Equal(encRaw.Bytes(), rawIn) {
		t.Errorf("encode --raw: exit %d, %d bytes, want %d", code, encRaw.Len(), len(rawIn))
	}
}

func TestWireInvalidInput(t *testing.T) {
	tests := []struct {
		args []string
		in   string
		want string
	}{
		{[]string{"wire", "encode"}, `{"type":"ErrorMsg","error":"a"}` + "\n\n" + `{"type":"Nope"}` + "\n", "line 3: Invalid value 'Nope' - at `$.type`"},
		{[]string{"wire", "encode"}, "{\n", "line 1: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{[]string{"wire", "decode"}, "82a474797065a84572726f724d7367a56572726f72a4626f6f6d\nzz\n", "line 2: invalid hex"},
		{[]string{"wire", "decode"}, "\n\n2a\n", "line 3: Expected `object`, got `int`"},
		{[]string{"wire", "decode"}, "82a474797065a84572726f724d7367a56572726f72a4626f6f6d00\n", "line 1: MessagePack data is malformed: trailing characters (byte 26)"},
		{[]string{"wire", "decode", "--raw"}, "\x82\xa4type\xa8ErrorMsg\xa5error\xa4boom\x81", "message 2 (byte 26): Input data was truncated"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, strings.NewReader(tt.in), &out, &errb)
		if code != ExitBadInput {
			t.Errorf("%v %q: exit %d, want %d", tt.args, tt.in, code, ExitBadInput)
		}
		msg := errb.String()
		if !strings.Contains(msg, tt.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%v %q: stderr %q, want one line containing %q", tt.args, tt.in, msg, tt.want)
		}
	}
}
