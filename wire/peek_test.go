package wire

import (
	"encoding/hex"
	"testing"

	"github.com/lmfast/lmfast/wire/wiretest"
)

// TestPeekTypeAgreesWithDecode: on every golden vector PeekType returns the
// tag of the message Decode returns; framing faults (not a map, truncated,
// trailing bytes, no "type") fail with Decode's own text; a tag in any
// position is found; and a body PeekType does not read (a field of the
// wrong type) still passes it, as documented.
func TestPeekTypeAgreesWithDecode(t *testing.T) {
	n := 0
	for _, v := range wiretest.Load(t) {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(b)
		if err != nil {
			continue
		}
		tag, err := PeekType(b)
		if err != nil || string(tag) != m.TypeName() {
			t.Fatalf("%s: PeekType %q, %v; Decode says %s", v.Hex, tag, err, m.TypeName())
		}
		n++
	}
	if n == 0 {
		t.Fatal("no golden vector decoded")
	}

	reply := BatchedP2PLookupRetMsg{LayoutInfo: []LayoutInfo{{}}}.AppendMsgpack(nil)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"array", mp([]any{"type", "ErrorMsg"})},
		{"truncated", reply[:len(reply)-1]},
		{"trailing", append(append([]byte{}, reply...), 0)},
		{"no tag", mp(om{"error", "x"})},
		{"tag not a str", mp(om{"type", 7})},
		{"key not a str", mp(om{1, "x", "type", "ErrorMsg"})},
	} {
		_, want := Decode(tc.b)
		tag, err := PeekType(tc.b)
		if want == nil || err == nil || err.Error() != want.Error() {
			t.Errorf("%s: PeekType %q, %v; Decode's error %v", tc.name, tag, err, want)
		}
	}

	last := mp(om{"error", "boom", "type", "ErrorMsg"})
	if tag, err := PeekType(last); err != nil || string(tag) != TypeErrorMsg {
		t.Fatalf("tag after a field: %q, %v", tag, err)
	}
	body := mp(om{"type", "ErrorMsg", "error", 7})
	if _, err := Decode(body); err == nil {
		t.Fatal("Decode took an int error text")
	}
	if tag, err := PeekType(body); err != nil || string(tag) != TypeErrorMsg {
		t.Fatalf("unread body: %q, %v", tag, err)
	}
}

// TestPeekTypeAllocs: peeking a well-formed reply allocates nothing.
func TestPeekTypeAllocs(t *testing.T) {
	reply := BatchedP2PLookupRetMsg{LayoutInfo: []LayoutInfo{{}}}.AppendMsgpack(nil)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := PeekType(reply); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per peek", n)
	}
}
