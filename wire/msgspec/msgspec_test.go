package msgspec

import (
	"errors"
	"testing"

	"github.com/lmfast/lmfast/wire/internal/mpack"
)

// TestDictKeysArePythonEqual: 1, 1.0 and True are one dict key, which
// keeps its first form and position and takes the last value, as a
// Python dict does; a NaN key never equals another.
func TestDictKeysArePythonEqual(t *testing.T) {
	for _, n := range []int{3, 40} { // the short scan and the indexed map
		var b []byte
		b = mpack.AppendMapHeader(b, n+2)
		b = mpack.AppendInt(mpack.AppendInt(b, 1), 10)
		b = mpack.AppendInt(mpack.AppendFloat(b, 1.0), 11)
		for i := 2; i < n; i++ {
			b = mpack.AppendInt(mpack.AppendStr(b, string(rune('a'+i%26))+string(rune('a'+i/26))), int64(i))
		}
		b = mpack.AppendInt(mpack.AppendBool(b, true), 12)
		b = mpack.AppendInt(mpack.AppendFloat(b, nan()), 13)
		v, err := DecodeValue(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Map) != n {
			t.Fatalf("n=%d: %d entries, want %d", n, len(v.Map), n)
		}
		first := v.Map[0]
		if first.Key.Kind != KindInt || first.Key.Int != mpack.UintOf(1) || first.Value.Int != mpack.UintOf(12) {
			t.Errorf("n=%d: first entry %+v, want the int key 1 with the last value 12", n, first)
		}
		if last := v.Map[n-1]; last.Key.Kind != KindFloat || last.Value.Int != mpack.UintOf(13) {
			t.Errorf("n=%d: last entry %+v, want the NaN key", n, last)
		}
	}
}

// TestTimestampRounding: a timestamp decodes at microsecond precision,
// rounding half up into the next second, as msgspec's datetime does.
func TestTimestampRounding(t *testing.T) {
	b := mpack.AppendExt(nil, -1, timestamp96(5, 999_999_500))
	v, err := DecodeValue(b)
	if err != nil {
		t.Fatal(err)
	}
	tm, ok := v.Time()
	if !ok || tm.Unix() != 6 || tm.Nanosecond() != 0 {
		t.Errorf("got %v %v, want second 6", tm, ok)
	}
	_, err = DecodeValue(mpack.AppendExt(nil, -1, timestamp96(5, 1_000_000_000)))
	if err == nil || err.Error() != "Invalid MessagePack timestamp: nanoseconds out of range" {
		t.Errorf("nanoseconds out of range: %v", err)
	}
}

// TestUnhashableKey: a dict as a dict key is Python's TypeError.
func TestUnhashableKey(t *testing.T) {
	b := mpack.AppendMapHeader(nil, 1)
	b = mpack.AppendMapHeader(b, 0)
	b = mpack.AppendNil(b)
	_, err := DecodeValue(b)
	var e *mpack.Error
	if !errors.As(err, &e) || e.Class != mpack.ClassTypeError || e.Msg != "unhashable type: 'dict'" {
		t.Errorf("got %v", err)
	}
}

// TestClasses: the generically decoded classes are the 34 of the Msg
// union without a Go type; a strict one checks its fields' types and
// fills in defaults, a lenient one keeps every field in wire order.
func TestClasses(t *testing.T) {
	if n := len(ClassNames()); n != 34 {
		t.Errorf("%d classes, want 34", n)
	}
	if LookupClass([]byte("RegisterMsg")) != nil {
		t.Error("RegisterMsg, a class with a Go type, is generic")
	}
	read := func(name string, entries int, body []byte) ([]Field, error) {
		c := LookupClass([]byte(name))
		if c == nil || c.Name() != name {
			t.Fatalf("no class %s", name)
		}
		var d mpack.Dec
		d.Reset(body, false)
		return c.ReadFields(&d, entries)
	}
	body := mpack.AppendStr(mpack.AppendStr(nil, "event_id"), "e1")
	body = mpack.AppendStr(body, "tokens")
	body = mpack.AppendArrayHeader(body, 2)
	body = mpack.AppendInt(mpack.AppendInt(body, 1), 2)
	body = mpack.AppendStr(body, "method")
	body = mpack.AppendStr(body, "m")
	body = mpack.AppendStr(mpack.AppendStr(body, "instance_id"), "i")
	fields, err := read("CompressMsg", 4, body)
	if err == nil || err.Error() != "Object missing required field `location`" {
		t.Errorf("CompressMsg without location: %v %v", fields, err)
	}
	body = mpack.AppendStr(mpack.AppendStr(body, "location"), "l")
	fields, err = read("CompressMsg", 5, body)
	if err != nil || len(fields) != 5 || fields[4].Name != "tokens" || len(fields[4].Value.Array) != 2 {
		t.Errorf("CompressMsg: %v %v", fields, err)
	}
	bad := mpack.AppendStr(mpack.AppendStr(nil, "event_id"), "e1")
	bad = mpack.AppendStr(bad, "tokens")
	bad = mpack.AppendArrayHeader(bad, 1)
	bad = mpack.AppendStr(bad, "x")
	if _, err := read("LookupMsg", 2, bad); err == nil || err.Error() != "Expected `int`, got `str` - at `$.tokens[0]`" {
		t.Errorf("LookupMsg with a str token: %v", err)
	}
	lenient := mpack.AppendInt(mpack.AppendStr(nil, "z"), 1)
	lenient = mpack.AppendInt(mpack.AppendStr(lenient, "a"), 2)
	fields, err = read("PinWorkerMsg", 2, lenient)
	if err != nil || len(fields) != 2 || fields[0].Name != "z" || fields[1].Name != "a" {
		t.Errorf("PinWorkerMsg: %v %v", fields, err)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

// timestamp96 is the 12-byte MessagePack timestamp payload.
func timestamp96(secs int64, nanos uint32) []byte {
	b := []byte{byte(nanos >> 24), byte(nanos >> 16), byte(nanos >> 8), byte(nanos)}
	for i := 7; i >= 0; i-- {
		b = append(b, byte(uint64(secs)>>(8*i)))
	}
	return b
}
