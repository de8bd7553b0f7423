package mpack

import (
	"errors"
	"testing"
)

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

// TestErrorPath: the path suffix msgspec appends, for fields, indexes,
// map values and keys (a key's path names the map it is in).
func TestErrorPath(t *testing.T) {
	var d Dec
	d.Reset(nil, false)
	if got := d.Verr("x").Msg; got != "x" {
		t.Errorf("root: %q", got)
	}
	d.PushField("commands")
	d.PushIndex()
	d.SetIndex(3)
	d.PushField("args")
	d.PushValues()
	if got, want := d.Verr("x").Msg, "x - at `$.commands[3].args[...]`"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	d.Pop()
	d.PushKey()
	if got, want := d.Verr("x").Msg, "x - at `key` in `$.commands[3].args`"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	d.KeyToValue()
	if got, want := d.Verr("x").Msg, "x - at `$.commands[3].args[...]`"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
	d.Reset(nil, false)
	if got := d.Verr("x").Msg; got != "x" {
		t.Errorf("after Reset: %q", got)
	}
}

// TestStructBody: keys in any order, unknown keys skipped, a wrong tag and
// a missing required field reported as msgspec does.
func TestStructBody(t *testing.T) {
	spec := &StructSpec{TagField: "type", Fields: []string{"a", "b", "c"}, NReq: 2}
	body := func(entries ...[]byte) []byte {
		var b []byte
		for _, e := range entries {
			b = append(b, e...)
		}
		return b
	}
	kv := func(k string, v int64) []byte { return AppendInt(AppendStr(nil, k), v) }
	decode := func(b []byte, n int) ([]int64, error) {
		var d Dec
		d.Reset(b, false)
		got := make([]int64, 3)
		err := d.StructBody(n, spec, "T", func(i int) (err error) {
			got[i], err = d.Int64()
			return err
		}, nil)
		if err == nil && d.Pos != len(b) {
			t.Errorf("%x: %d bytes left", b, len(b)-d.Pos)
		}
		return got, err
	}
	got, err := decode(body(kv("b", 2), kv("zz", 9), AppendStr(AppendStr(nil, "type"), "T"), kv("a", 1)), 4)
	if err != nil || got[0] != 1 || got[1] != 2 || got[2] != 0 {
		t.Errorf("reordered: %v %v", got, err)
	}
	_, err = decode(body(kv("a", 1)), 1)
	if err == nil || err.Error() != "Object missing required field `b`" {
		t.Errorf("missing: %v", err)
	}
	_, err = decode(body(AppendStr(AppendStr(nil, "type"), "U"), kv("a", 1)), 2)
	if err == nil || err.Error() != "Invalid value 'U' - at `$.type`" {
		t.Errorf("wrong tag: %v", err)
	}
	_, err = decode(body(AppendStr(AppendStr(nil, "a"), "s")), 1)
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassValidationError || e.Msg != "Expected `int`, got `str` - at `$.a`" {
		t.Errorf("wrong type: %v", err)
	}
}
