package wire

import (
	"bytes"
	"encoding/hex"
	"math"
	"reflect"
	"testing"

	"github.com/lmfast/lmfast/wire/wiretest"
)

// FuzzDecode checks that Decode never panics and that whatever decodes
// re-encodes to bytes that decode to the same message (and encode again to
// the same bytes).
func FuzzDecode(f *testing.F) {
	for _, v := range wiretest.Load(f) {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "HeartbeatCommand", "args", om{"a", []any{1.5, nil, []byte{1}}, "b", raw{0xd6, 0xff, 0, 0, 0, 1}}}}}))
	f.Add(mp(om{"type", "QueryWorkerInfoRetMsg", "event_id", "e", "worker_infos", []any{om{"instance_id", "i", "worker_id", 1, "ip", "x", "port", 2, "peer_init_url", nil, "registration_time", 1.0, "last_heartbeat_time", 2}}}))
	f.Add(mp(om{"type", "ClearWorkerMsg", "worker_event_id", "w", "location", "l"}))
	f.Add(NewBatchEncoder("i", 1, "l").AppendKeys(nil, OpEvict, []Int{IntOf(-7), UintOf(1 << 63), IntOf(300)}, 1<<40))
	var reused Decoder // one Decoder across inputs, as a server uses it
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if slowM, slowErr := decodeGeneral(b); !sameResult(m, err, slowM, slowErr) {
			t.Fatalf("fast path %#v, %v; general path %#v, %v", m, err, slowM, slowErr)
		}
		if rm, rerr := reused.Decode(b); !sameResult(m, err, rm, rerr) {
			t.Fatalf("Decode %#v, %v; Decoder.Decode %#v, %v", m, err, rm, rerr)
		}
		if err != nil {
			if m != nil {
				t.Fatal("message returned with an error")
			}
			return
		}
		enc := m.AppendMsgpack(nil)
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", enc, err)
		}
		if m2.TypeName() != m.TypeName() {
			t.Fatalf("type changed: %s -> %s", m.TypeName(), m2.TypeName())
		}
		if enc2 := m2.AppendMsgpack(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("not stable:\n%x\n%x", enc, enc2)
		}
		if !hasNaN(m) && !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-decoded value differs:\n%#v\n%#v", m, m2)
		}
		if _, err := DecodeValue(enc); err != nil { // what pyjson.Encode reads
			t.Fatalf("%x does not decode as a generic value: %v", enc, err)
		}
	})
}

// decodeGeneral decodes b with the KV-op fast path turned off.
func decodeGeneral(b []byte) (Msg, error) {
	fastKVOps = false
	defer func() { fastKVOps = true }()
	return Decode(b)
}

// sameResult reports whether two decodes agree: both the same error text,
// or equal messages.
func sameResult(m1 Msg, err1 error, m2 Msg, err2 error) bool {
	if err1 != nil || err2 != nil {
		return err1 != nil && err2 != nil && err1.Error() == err2.Error()
	}
	return hasNaN(m1) || reflect.DeepEqual(m1, m2)
}

// hasNaN reports whether m holds a NaN float (never DeepEqual to itself).
func hasNaN(m Msg) bool {
	switch m := m.(type) {
	case *FullSyncStatusRetMsg:
		return math.IsNaN(m.GlobalProgress)
	case *HeartbeatRetMsg:
		for _, c := range m.Commands {
			if c.Args != nil {
				for _, e := range *c.Args {
					if valueHasNaN(e.Value) {
						return true
					}
				}
			}
		}
	case *GenericMsg:
		for _, f := range m.Fields {
			if valueHasNaN(f.Value) {
				return true
			}
		}
	}
	return false
}

func valueHasNaN(v Value) bool {
	switch v.Kind {
	case KindFloat:
		return math.IsNaN(v.Float)
	case KindArray:
		for _, x := range v.Array {
			if valueHasNaN(x) {
				return true
			}
		}
	case KindMap:
		for _, e := range v.Map {
			if valueHasNaN(e.Key) || valueHasNaN(e.Value) {
				return true
			}
		}
	}
	return false
}
