package wire

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

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
			m, err := FromJSON(v.Value)
			if err != nil {
				t.Fatalf("FromJSON: %v", err)
			}
			if m.TypeName() != v.Class && !(v.Class == "HeartbeatRetMsg" && m.TypeName() == v.Class) {
				t.Errorf("TypeName %q, want %q", m.TypeName(), v.Class)
			}
			if got := m.AppendMsgpack(nil); !bytes.Equal(got, want) {
				t.Fatalf("encode mismatch\n got %x\nwant %x", got, want)
			}
			dm, err := Decode(want)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			js, err := ToJSON(dm)
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			if !wiretest.JSONEqual(t, js, v.Value) {
				t.Fatalf("ToJSON mismatch\n got %s\nwant %s", js, v.Value)
			}
			if !reflect.DeepEqual(dm, m) {
				t.Errorf("Decode and FromJSON disagree:\n%#v\n%#v", dm, m)
			}
			passed++
		})
	}
	t.Logf("golden: %d/%d vectors pass (encode and decode)", passed, len(vectors))
	if passed != len(vectors) {
		t.Fail()
	}
}
