package pyjson

import (
	"bytes"
	"math"
	"testing"

	"github.com/lmfast/lmfast/wire"
)

// TestDecodeErrors: json.loads' errors with Python's texts and positions,
// and msgspec.convert's errors with its type names.
func TestDecodeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"type":"Foo"}`, "Invalid value 'Foo' - at `$.type`"},
		{`{"type":"it's"}`, `Invalid value "it's" - at ` + "`$.type`"},
		{`{"type":null}`, "Expected `str`, got `NoneType` - at `$.type`"},
		{`{"type":[1]}`, "Expected `str`, got `list` - at `$.type`"},
		{`{"error":"x"}`, "Object missing required field `type`"},
		{`[1]`, "Expected `object`, got `array`"},
		{`null`, "Expected `object`, got `null`"},
		{`{"type":"ErrorMsg","error":null}`, "Expected `str`, got `null` - at `$.error`"},
		{`{"type":"ErrorMsg","error":1,"error":"ok","x":1}`, ""},
		{`{"type":"ErrorMsg","error":"x","type":"RegisterMsg"}`, "Object missing required field `instance_id`"},
		{`{"type":"DeRegisterMsg","instance_id":"i","worker_id":1.5,"ip":"x","port":1}`, "Expected `int`, got `float` - at `$.worker_id`"},
		{`{"type":"DeRegisterMsg","instance_id":"i","worker_id":1e2,"ip":"x","port":1}`, "Expected `int`, got `float` - at `$.worker_id`"},
		{`{"type":"KVAdmitMsg","instance_id":"i","worker_id":1,"key":18446744073709551616,"location":"l"}`, "Integer value out of range - at `$.key`"},
		{`{"type":"BatchedKVOperationMsg","instance_id":"i","worker_id":0,"location":"l","operations":[{"op_type":"Admit","key":1,"seq_num":0}]}`, "Invalid enum value 'Admit' - at `$.operations[0].op_type`"},
		{`{"type":"FullSyncStatusRetMsg","sync_id":"s","is_complete":true,"global_progress":1,"can_exit_freeze":false}`, ""},
		{`{"type":"FullSyncStatusRetMsg","sync_id":"s","is_complete":true,"global_progress":100000000000000000000000,"can_exit_freeze":false}`, ""},
		{`{"type":"ErrorMsg","error":"x","extra":{"a":[1,{"b":NaN}],"a":-Infinity}}`, ""},
		{`{`, "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{``, "Expecting value: line 1 column 1 (char 0)"},
		{`{"type":"ErrorMsg"} x`, "Extra data: line 1 column 21 (char 20)"},
		{"{\"type\":\n\"ErrorMsg\",}", "Expecting property name enclosed in double quotes: line 2 column 12 (char 20)"},
		{`{"type" "x"}`, "Expecting ':' delimiter: line 1 column 9 (char 8)"},
		{`{"type":"x" 1}`, "Expecting ',' delimiter: line 1 column 13 (char 12)"},
		{`{"type":"x`, "Unterminated string starting at: line 1 column 9 (char 8)"},
	}
	for _, tt := range tests {
		m, err := Decode([]byte(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: decoded %#v, want %q", tt.in, m, tt.want)
		} else if err.Error() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.in, err.Error(), tt.want)
		}
	}
}

// TestEncodeRoundTrip: what Encode writes, Decode reads back to a message
// with the same encoding; a generic message is written with its defaults.
func TestEncodeRoundTrip(t *testing.T) {
	msgs := []wire.Msg{
		&wire.FullSyncStartMsg{InstanceID: "i", WorkerID: 1, Location: "l", SyncID: "s", TotalKeys: 10, BatchCount: 2},
		&wire.FullSyncStartRetMsg{SyncID: "s", Accepted: true, ErrorMsg: wire.Str("e")},
		&wire.FullSyncBatchMsg{InstanceID: "i", WorkerID: 1, Location: "l", SyncID: "s", BatchID: 3, Keys: []wire.Int{wire.UintOf(math.MaxUint64), wire.IntOf(math.MinInt64)}},
		&wire.FullSyncEndMsg{InstanceID: "i", WorkerID: 1, Location: "l", SyncID: "s", ActualTotalKeys: 9},
		&wire.FullSyncStatusMsg{InstanceID: "i", WorkerID: 1, SyncID: "s"},
		&wire.FullSyncStatusRetMsg{SyncID: "s", GlobalProgress: 0.5, CanExitFreeze: true, MissingBatches: []int64{1, 2}},
		&wire.FullSyncStatusRetMsg{SyncID: "s", GlobalProgress: 2, CanExitFreeze: true, MissingBatches: []int64{}},
		&wire.KVEvictMsg{InstanceID: "i", WorkerID: 1, Key: wire.IntOf(-1), Location: "l", SeqNum: 4},
		&wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{{CommandType: wire.CommandGeneric, Args: &wire.Dict{{Key: "k", Value: wire.ArrayValue(wire.FloatValue(1e300), wire.StrValue("\x01\"é"), wire.NilValue())}}}}},
		&wire.ErrorMsg{Error: "Unknown message type: <class 'lmcache.v1.cache_controller.message.ClearMsg'>"},
	}
	for _, m := range msgs {
		js, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(js)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if !bytes.Equal(back.AppendMsgpack(nil), m.AppendMsgpack(nil)) {
			t.Fatalf("JSON round trip of %s changed the encoding", js)
		}
	}
	move := wire.GenericMsg{Type: "MoveMsg", Fields: []wire.Field{{Name: "event_id", Value: wire.StrValue("e")},
		{Name: "old_position", Value: wire.ArrayValue(wire.StrValue("a"), wire.StrValue("b"))},
		{Name: "new_position", Value: wire.ArrayValue(wire.StrValue("c"), wire.StrValue("d"))}}}
	g, err := wire.Decode(move.AppendMsgpack(nil))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := Encode(g)
	if want := `{"type":"MoveMsg","event_id":"e","old_position":["a","b"],"new_position":["c","d"],"tokens":null,"copy":false}`; string(js) != want {
		t.Fatalf("got %s", js)
	}
}

// TestEncodeForms: how each kind of Any value is written: timestamps as
// RFC 3339 strings, bytes as base64, floats so they read back as floats
// (NaN as null), int dict keys as strings; other Ext values and float
// keys are errors.
func TestEncodeForms(t *testing.T) {
	args := func(v wire.Value) wire.Msg {
		return wire.HeartbeatRetMsg{Commands: []wire.HeartbeatCommand{{CommandType: wire.CommandGeneric, Args: &wire.Dict{{Key: "a", Value: v}}}}}
	}
	const head = `{"type":"HeartbeatRetMsg","commands":[{"command_type":"HeartbeatCommand","reason":null,"args":{"a":`
	tests := []struct {
		v         wire.Value
		want, err string
	}{
		{wire.ExtValue(-1, []byte{0, 0, 0, 1, 0, 0, 0, 0, 0x65, 0, 0, 0}), `"2023-09-12T06:06:56Z"`, ""},
		{wire.BinValue([]byte{0, 1, 0xfe}), `"AAH+"`, ""},
		{wire.ArrayValue(wire.FloatValue(2), wire.FloatValue(1e300), wire.FloatValue(math.NaN()), wire.FloatValue(-0.5)), `[2.0,1e+300,null,-0.5]`, ""},
		{wire.MapValue(wire.Entry{Key: wire.IntValue(wire.IntOf(-1)), Value: wire.StrValue("x\u00a0\x7f\"")}), `{"-1":"x` + "\u00a0" + `\u007f\""}`, ""},
		{wire.ExtValue(5, []byte("ab")), "", "wire: ToJSON: Ext values have no JSON form"},
		{wire.MapValue(wire.Entry{Key: wire.FloatValue(1.5), Value: wire.NilValue()}), "", "wire: ToJSON: dict key of kind float has no JSON form"},
	}
	for _, tc := range tests {
		js, err := Encode(args(tc.v))
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%v: error %v, want %q", tc.v, err, tc.err)
		case tc.err == "" && (err != nil || string(js) != head+tc.want+"}}]}"):
			t.Errorf("%v: %s, %v; want %s", tc.v, js, err, head+tc.want+"}}]}")
		}
	}
}
