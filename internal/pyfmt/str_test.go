package pyfmt

import "testing"

// TestRepr: texts CPython 3.11's repr(str) gives, among them the code
// points where str.isprintable and a plain "is it graphic" test part:
// U+00A0 and U+00AD are escaped, U+FFFD is printed.
func TestRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x", "'x'"},
		{"a'b", `"a'b"`},
		{`a'"b`, `'a\'"b'`},
		{"a\nb\x00", `'a\nb\x00'`},
		{"é\u200b", `'é\u200b'`},
		{`a"b'`, `'a"b\''`},
		{"x\ny\tz\r", `'x\ny\tz\r'`},
		{"\x00\x1f\x7f", `'\x00\x1f\x7f'`},
		{`\`, `'\\'`},
		{"\u00a0", `'\xa0'`},
		{"\u00ad", `'\xad'`},
		{"\ufffd", "'\ufffd'"},
		{"é\u00a0\u00ad\ufffd", `'é\xa0\xad` + "\ufffd'"},
		{"\u0080\u009f", `'\x80\x9f'`},
		{"\u200b", `'\u200b'`},
		{"\u2028", `'\u2028'`},
		{"\ue000", `'\ue000'`},
		{"\u0378", `'\u0378'`},
		{"😀", "'😀'"},
		{"\U000e0001", `'\U000e0001'`},
		{"a\xffb", "'a\ufffdb'"}, // not UTF-8: the byte reads as U+FFFD
	}
	for _, tc := range tests {
		if got := Repr(tc.in); got != tc.want {
			t.Errorf("Repr(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestUTF8Error: the messages CPython 3.11 gives for b.decode("utf-8").
func TestUTF8Error(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok é", ""},
		{"a\xff", "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
		{"ab\xe2\x82", "'utf-8' codec can't decode bytes in position 2-3: unexpected end of data"},
		{"\xe0\x80\x80", "'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte"},
		{"\xed\xa0\x80", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"},
		{"\xf4\x90\x80\x80", "'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte"},
		{"x\xf0\x9f\x98", "'utf-8' codec can't decode bytes in position 1-3: unexpected end of data"},
	}
	for _, tc := range tests {
		if got := UTF8Error([]byte(tc.in)); got != tc.want {
			t.Errorf("UTF8Error(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
