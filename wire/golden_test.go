package wire_test

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/pyjson"
	"github.com/lmfast/lmfast/wire/wiretest"
)

func TestGolden(t *testing.T) {
	vectors := wiretest.Load(t)
	passed := 0
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			want, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			m, err := pyjson.Decode(v.Value)
			if err != nil {
				t.Fatalf("pyjson.Decode: %v", err)
			}
			if m.TypeName() != v.Class && !(v.Class == "HeartbeatRetMsg" && m.TypeName() == v.Class) {
				t.Errorf("TypeName %q, want %q", m.TypeName(), v.Class)
			}
			if got := m.AppendMsgpack(nil); !bytes.Equal(got, want) {
				t.Fatalf("encode mismatch\n got %x\nwant %x", got, want)
			}
			dm, err := wire.Decode(want)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			js, err := pyjson.Encode(dm)
			if err != nil {
				t.Fatalf("pyjson.Encode: %v", err)
			}
			if !wiretest.JSONEqual(t, js, v.Value) {
				t.Fatalf("pyjson.Encode mismatch\n got %s\nwant %s", js, v.Value)
			}
			if !reflect.DeepEqual(dm, m) {
				t.Errorf("Decode and pyjson.Decode disagree:\n%#v\n%#v", dm, m)
			}
			passed++
		})
	}
	t.Logf("golden: %d/%d vectors pass (encode and decode)", passed, len(vectors))
	if passed != len(vectors) {
		t.Fail()
	}
}
