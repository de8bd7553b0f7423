package mpack

import "testing"

func TestUTF8Errors(t *testing.T) {
	for in, want := range map[string]string{
		"a\xff":        "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
		"\xe2\x82":     "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data",
		"\xe2\x28x":    "'utf-8' codec can't decode byte 0xe2 in position 0: invalid continuation byte",
		"\xed\xa0\x80": "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte",
	} {
		if e := UTF8Error([]byte(in)); e == nil || e.Msg != want {
			t.Errorf("%q: got %v want %s", in, e, want)
		}
	}
}
