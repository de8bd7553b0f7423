package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/wire/wiretest"
)

// om is an ordered map for building test messages with mp.
type om []any

// raw is appended verbatim by mp.
type raw []byte

// mp encodes a test value: string, int, uint64, float64, bool, nil, []byte
// (bin), raw (verbatim), om (map in order) and []any (array).
func mp(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		b = mpAppend(b, v)
	}
	return b
}

func mpAppend(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return appendNil(b)
	case string:
		return appendStr(b, v)
	case int:
		return appendInt(b, int64(v))
	case uint64:
		return appendUint(b, v)
	case float64:
		return appendFloat(b, v)
	case bool:
		return appendBool(b, v)
	case []byte:
		return appendBin(b, v)
	case raw:
		return append(b, v...)
	case om:
		b = appendMapHeader(b, len(v)/2)
		for _, x := range v {
			b = mpAppend(b, x)
		}
		return b
	case []any:
		b = appendArrayHeader(b, len(v))
		for _, x := range v {
			b = mpAppend(b, x)
		}
		return b
	}
	panic("mp: unsupported type")
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpecVectors checks hand-made vectors (docs/protocol.md, "Worked examples").
func TestSpecVectors(t *testing.T) {
	tests := []struct {
		name string
		msg  Msg
		hex  string
		size int
	}{
		{"a_batched", BatchedKVOperationMsg{InstanceID: "instance_p0_0", WorkerID: 0, Location: "location_0",
			Operations: []KVOpEvent{{OpAdmit, UintOf(42), 0}, {OpAdmit, UintOf(1000), 1}}},
			"85 a4 74 79 70 65 b5 42 61 74 63 68 65 64 4b 56 4f 70 65 72 61 74 69 6f 6e 4d 73 67 ab 69 6e 73 74 61 6e 63 65 5f 69 64 ad 69 6e 73 74 61 6e 63 65 5f 70 30 5f 30 a9 77 6f 72 6b 65 72 5f 69 64 00 a8 6c 6f 63 61 74 69 6f 6e aa 6c 6f 63 61 74 69 6f 6e 5f 30 aa 6f 70 65 72 61 74 69 6f 6e 73 92 83 a7 6f 70 5f 74 79 70 65 a5 61 64 6d 69 74 a3 6b 65 79 2a a7 73 65 71 5f 6e 75 6d 00 83 a7 6f 70 5f 74 79 70 65 a5 61 64 6d 69 74 a3 6b 65 79 cd 03 e8 a7 73 65 71 5f 6e 75 6d 01", 157},
		{"b_register", RegisterMsg{InstanceID: "instance_p0_0", WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: Str("tcp://127.0.0.1:20000")},
			"86 a4 74 79 70 65 ab 52 65 67 69 73 74 65 72 4d 73 67 ab 69 6e 73 74 61 6e 63 65 5f 69 64 ad 69 6e 73 74 61 6e 63 65 5f 70 30 5f 30 a9 77 6f 72 6b 65 72 5f 69 64 00 a2 69 70 a9 31 32 37 2e 30 2e 30 2e 31 a4 70 6f 72 74 cd 27 10 ad 70 65 65 72 5f 69 6e 69 74 5f 75 72 6c b5 74 63 70 3a 2f 2f 31 32 37 2e 30 2e 30 2e 31 3a 32 30 30 30 30", 112},
		{"c_heartbeat", HeartbeatMsg{InstanceID: "i0", WorkerID: 1, IP: "127.0.0.1", Port: 10001},
			"86 a4 74 79 70 65 ac 48 65 61 72 74 62 65 61 74 4d 73 67 ab 69 6e 73 74 61 6e 63 65 5f 69 64 a2 69 30 a9 77 6f 72 6b 65 72 5f 69 64 01 a2 69 70 a9 31 32 37 2e 30 2e 30 2e 31 a4 70 6f 72 74 cd 27 11 ad 70 65 65 72 5f 69 6e 69 74 5f 75 72 6c c0", 81},
		{"d_p2p", BatchedP2PLookupMsg{Hashes: []Int{UintOf(1), UintOf(2), UintOf(300)}, InstanceID: "instance_p0_1", WorkerID: 0},
			"84 a4 74 79 70 65 b3 42 61 74 63 68 65 64 50 32 50 4c 6f 6f 6b 75 70 4d 73 67 a6 68 61 73 68 65 73 93 01 02 cd 01 2c ab 69 6e 73 74 61 6e 63 65 5f 69 64 ad 69 6e 73 74 61 6e 63 65 5f 70 30 5f 31 a9 77 6f 72 6b 65 72 5f 69 64 00", 76},
		{"e_deregister", DeRegisterMsg{InstanceID: "i0", WorkerID: 0, IP: "127.0.0.1", Port: 10000},
			"85 a4 74 79 70 65 ad 44 65 52 65 67 69 73 74 65 72 4d 73 67 ab 69 6e 73 74 61 6e 63 65 5f 69 64 a2 69 30 a9 77 6f 72 6b 65 72 5f 69 64 00 a2 69 70 a9 31 32 37 2e 30 2e 30 2e 31 a4 70 6f 72 74 cd 27 10", 67},
		{"register_ret_empty", RegisterRetMsg{},
			"82 a4 74 79 70 65 ae 52 65 67 69 73 74 65 72 52 65 74 4d 73 67 ac 65 78 74 72 61 5f 63 6f 6e 66 69 67 80", 35},
		{"register_ret_hb", RegisterRetMsg{ExtraConfig: []StrPair{{"heartbeat_url", "127.0.0.1:7557"}}},
			"82 a4 74 79 70 65 ae 52 65 67 69 73 74 65 72 52 65 74 4d 73 67 ac 65 78 74 72 61 5f 63 6f 6e 66 69 67 81 ad 68 65 61 72 74 62 65 61 74 5f 75 72 6c ae 31 32 37 2e 30 2e 30 2e 31 3a 37 35 35 37", 64},
		{"heartbeat_ret_empty", HeartbeatRetMsg{},
			"82 a4 74 79 70 65 af 48 65 61 72 74 62 65 61 74 52 65 74 4d 73 67 a8 63 6f 6d 6d 61 6e 64 73 90", 32},
		{"heartbeat_ret_restart", HeartbeatRetMsg{Commands: []HeartbeatCommand{FullSyncCommand("controller_restart")}},
			"82 a4 74 79 70 65 af 48 65 61 72 74 62 65 61 74 52 65 74 4d 73 67 a8 63 6f 6d 6d 61 6e 64 73 91 83 ac 63 6f 6d 6d 61 6e 64 5f 74 79 70 65 a9 66 75 6c 6c 5f 73 79 6e 63 a6 72 65 61 73 6f 6e b2 63 6f 6e 74 72 6f 6c 6c 65 72 5f 72 65 73 74 61 72 74 a4 61 72 67 73 c0", 88},
		{"p2p_ret_miss", BatchedP2PLookupRetMsg{LayoutInfo: []LayoutInfo{{}}},
			"82 a4 74 79 70 65 b6 42 61 74 63 68 65 64 50 32 50 4c 6f 6f 6b 75 70 52 65 74 4d 73 67 ab 6c 61 79 6f 75 74 5f 69 6e 66 6f 91 94 a0 a0 00 a0", 47},
		{"p2p_ret_hit", BatchedP2PLookupRetMsg{LayoutInfo: []LayoutInfo{{"inst_a", "location_0", 2, "tcp://127.0.0.1:20000"}}},
			"82 a4 74 79 70 65 b6 42 61 74 63 68 65 64 50 32 50 4c 6f 6f 6b 75 70 52 65 74 4d 73 67 ab 6c 61 79 6f 75 74 5f 69 6e 66 6f 91 94 a6 69 6e 73 74 5f 61 aa 6c 6f 63 61 74 69 6f 6e 5f 30 02 b5 74 63 70 3a 2f 2f 31 32 37 2e 30 2e 30 2e 31 3a 32 30 30 30 30", 84},
		{"error_boom", ErrorMsg{Error: "boom"},
			"82 a4 74 79 70 65 a8 45 72 72 6f 72 4d 73 67 a5 65 72 72 6f 72 a4 62 6f 6f 6d", 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(t, tt.hex)
			if len(want) != tt.size {
				t.Fatalf("vector has %d bytes, spec says %d", len(want), tt.size)
			}
			got := tt.msg.AppendMsgpack(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode\n got %x\nwant %x", got, want)
			}
			m, err := Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			if again := m.AppendMsgpack(nil); !bytes.Equal(again, want) {
				t.Fatalf("re-encode after decode\n got %x\nwant %x", again, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	reg := func(extra ...any) []byte {
		return mp(append(om{"type", "RegisterMsg", "instance_id", "i", "worker_id", 0, "ip", "x", "port", 1, "peer_init_url", nil}, extra...))
	}
	golden := mp(om{"type", "ErrorMsg", "error", "boom"})
	huge := mp(om{"type", "BatchedP2PLookupMsg", "hashes", raw{0xdd, 0xff, 0xff, 0xff, 0xff}})
	tests := []struct {
		name  string
		in    []byte
		class string
		want  string
	}{
		{"empty", nil, ClassDecodeError, "Input data was truncated"},
		{"top int", mp(1), ClassValidationError, "Expected `object`, got `int`"},
		{"top nil", mp(nil), ClassValidationError, "Expected `object`, got `None`"},
		{"top array", mp([]any{1}), ClassValidationError, "Expected `object`, got `array`"},
		{"top str", mp("x"), ClassValidationError, "Expected `object`, got `str`"},
		{"top bin", mp([]byte("x")), ClassValidationError, "Expected `object`, got `bytes`"},
		{"top float", mp(1.5), ClassValidationError, "Expected `object`, got `float`"},
		{"top invalid opcode", []byte{0xc1}, ClassDecodeError, "MessagePack data is malformed: invalid opcode '\\xc1' (byte 0)"},
		{"missing tag", mp(om{"error", "x"}), ClassValidationError, "Object missing required field `type`"},
		{"empty map", mp(om{}), ClassValidationError, "Object missing required field `type`"},
		{"unknown tag", mp(om{"type", "Foo"}), ClassValidationError, "Invalid value 'Foo' - at `$.type`"},
		{"unknown tag later", mp(om{"x", 1, "type", "Foo"}), ClassValidationError, "Invalid value 'Foo' - at `$.type`"},
		{"tag int", mp(om{"type", 1}), ClassValidationError, "Expected `str`, got `int` - at `$.type`"},
		{"tag nil", mp(om{"type", nil}), ClassValidationError, "Expected `str`, got `null` - at `$.type`"},
		{"key int", mp(om{1, "x"}), ClassValidationError, "Expected `str`, got `int` - at `key` in `$`"},
		{"second tag mismatch", mp(om{"type", "ErrorMsg", "error", "x", "type", "RegisterMsg"}), ClassValidationError, "Invalid value 'RegisterMsg' - at `$.type`"},
		{"missing field", mp(om{"type", "ErrorMsg"}), ClassValidationError, "Object missing required field `error`"},
		{"missing first of many", mp(om{"type", "DeRegisterMsg", "port", 1}), ClassValidationError, "Object missing required field `instance_id`"},
		{"wrong field type", mp(om{"type", "RegisterMsg", "instance_id", 1}), ClassValidationError, "Expected `str`, got `int` - at `$.instance_id`"},
		{"nil for str", mp(om{"type", "ErrorMsg", "error", nil}), ClassValidationError, "Expected `str`, got `None` - at `$.error`"},
		{"bin for str", mp(om{"type", "ErrorMsg", "error", []byte("x")}), ClassValidationError, "Expected `str`, got `bytes` - at `$.error`"},
		{"float for int", reg("worker_id", 1.0), ClassValidationError, "Expected `int`, got `float` - at `$.worker_id`"},
		{"bool for int", reg("port", true), ClassValidationError, "Expected `int`, got `bool` - at `$.port`"},
		{"optional wrong", reg("peer_init_url", 5), ClassValidationError, "Expected `str | null`, got `int` - at `$.peer_init_url`"},
		{"missing nullable", mp(om{"type", "HeartbeatMsg", "instance_id", "i", "worker_id", 0, "ip", "x", "port", 1}), ClassValidationError, "Object missing required field `peer_init_url`"},
		{"bad enum", mp(om{"type", "BatchedKVOperationMsg", "instance_id", "i", "worker_id", 0, "location", "l", "operations", []any{om{"op_type", "x", "key", 1, "seq_num", 0}}}),
			ClassValidationError, "Invalid enum value 'x' - at `$.operations[0].op_type`"},
		{"enum int", mp(om{"type", "BatchedKVOperationMsg", "operations", []any{om{"op_type", 1}}}), ClassValidationError, "Expected `str`, got `int` - at `$.operations[0].op_type`"},
		{"op missing key", mp(om{"type", "BatchedKVOperationMsg", "operations", []any{om{"op_type", "admit", "seq_num", 0}}}), ClassValidationError, "Object missing required field `key` - at `$.operations[0]`"},
		{"op not map", mp(om{"type", "BatchedKVOperationMsg", "operations", []any{1}}), ClassValidationError, "Expected `object`, got `int` - at `$.operations[0]`"},
		{"operations not array", mp(om{"type", "BatchedKVOperationMsg", "operations", om{}}), ClassValidationError, "Expected `array`, got `object` - at `$.operations`"},
		{"hash str", mp(om{"type", "BatchedP2PLookupMsg", "hashes", []any{1, "x"}}), ClassValidationError, "Expected `int`, got `str` - at `$.hashes[1]`"},
		{"tuple short", mp(om{"type", "BatchedP2PLookupRetMsg", "layout_info", []any{[]any{"a", "b", 1}}}), ClassValidationError, "Expected `array` of length 4, got 3 - at `$.layout_info[0]`"},
		{"tuple elem", mp(om{"type", "BatchedP2PLookupRetMsg", "layout_info", []any{[]any{"a", "b", "c", "d"}}}), ClassValidationError, "Expected `int`, got `str` - at `$.layout_info[0][2]`"},
		{"extra_config value", mp(om{"type", "RegisterRetMsg", "extra_config", om{"a", 1}}), ClassValidationError, "Expected `str`, got `int` - at `$.extra_config[...]`"},
		{"extra_config key", mp(om{"type", "RegisterRetMsg", "extra_config", om{1, "a"}}), ClassValidationError, "Expected `str`, got `int` - at `key` in `$.extra_config`"},
		{"command not map", mp(om{"type", "HeartbeatRetMsg", "commands", []any{1}}), ClassValidationError, "Expected `object`, got `int` - at `$.commands[0]`"},
		{"command missing tag", mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"reason", nil}}}), ClassValidationError, "Object missing required field `command_type` - at `$.commands[0]`"},
		{"command bad tag", mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "x"}}}), ClassValidationError, "Invalid value 'x' - at `$.commands[0].command_type`"},
		{"command args", mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", 1}}}), ClassValidationError, "Expected `object | null`, got `int` - at `$.commands[0].args`"},
		{"command args key", mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", om{1, 1}}}}), ClassValidationError, "Expected `str`, got `int` - at `key` in `$.commands[0].args`"},
		{"truncated", golden[:len(golden)-1], ClassDecodeError, "Input data was truncated"},
		{"truncated header", golden[:1], ClassDecodeError, "Input data was truncated"},
		{"trailing", append(append([]byte{}, golden...), 0), ClassDecodeError, "MessagePack data is malformed: trailing characters (byte 26)"},
		{"huge array header", huge, ClassDecodeError, "Input data was truncated"},
		{"huge map header", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa4, 't', 'y', 'p', 'e'}, ClassDecodeError, "Input data was truncated"},
		{"invalid opcode skipped", mp(om{"x", raw{0xc1}, "type", "ErrorMsg"}), ClassDecodeError, "MessagePack data is malformed: invalid opcode '\\xc1' (byte 3)"},
		{"invalid utf8", mp(om{"type", "ErrorMsg", "error", string([]byte{'a', 0xff})}), ClassUnicodeDecodeError, "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte"},
		{"int64 overflow", reg("worker_id", uint64(1<<63)), ClassValidationError, "Integer value out of range - at `$.worker_id`"},
		{"float for bool", mp(om{"type", "FullSyncStartRetMsg", "sync_id", "s", "accepted", 1.0}), ClassValidationError, "Expected `bool`, got `float` - at `$.accepted`"},
		{"orch missing", mp(om{"type", "ClearMsg", "event_id", "e"}), ClassValidationError, "Object missing required field `instance_id`"},
		{"orch wrong", mp(om{"type", "LookupMsg", "event_id", "e", "tokens", []any{"x"}}), ClassValidationError, "Expected `int`, got `str` - at `$.tokens[0]`"},
		{"orch optional", mp(om{"type", "MoveMsg", "copy", 1}), ClassValidationError, "Expected `bool | null`, got `int` - at `$.copy`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("decoded %#v, want error %q", m, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Class != tt.class || e.Msg != tt.want {
				t.Fatalf("got %s %q\nwant %s %q", e.Class, e.Msg, tt.class, tt.want)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	want := &RegisterMsg{InstanceID: "i", WorkerID: -3, IP: "h", Port: 70000, PeerInitURL: Str("p")}
	tests := []struct {
		name string
		in   []byte
	}{
		{"tag last, reversed, unknown keys", mp(om{"peer_init_url", "p", "zzz", []any{1, om{"a", nil}}, "port", 70000, "ip", "h", "worker_id", -3, "instance_id", "i", "type", "RegisterMsg"})},
		{"repeated key wins last", mp(om{"type", "RegisterMsg", "instance_id", "old", "worker_id", -3, "ip", "h", "port", 70000, "peer_init_url", "p", "instance_id", "i"})},
		{"non-minimal ints", mp(om{"type", "RegisterMsg", "instance_id", "i", "worker_id", raw{0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd}, "ip", "h", "port", raw{0xcf, 0, 0, 0, 0, 0, 1, 0x11, 0x70}, "peer_init_url", "p"})},
		{"str32 and map16", append([]byte{0xde, 0, 6}, mp("type", "RegisterMsg", "instance_id", raw{0xdb, 0, 0, 0, 1, 'i'}, "worker_id", -3, "ip", "h", "port", 70000, "peer_init_url", "p")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, want) {
				t.Fatalf("got %#v", m)
			}
		})
	}
	// Defaults for missing defaulted fields.
	m, err := Decode(mp(om{"type", "KVAdmitMsg", "instance_id", "i", "worker_id", 1, "key", -5, "location", "l"}))
	if err != nil || m.(*KVAdmitMsg).SeqNum != 0 || m.(*KVAdmitMsg).Key != IntOf(-5) {
		t.Fatalf("KVAdmitMsg default: %#v %v", m, err)
	}
	m, err = Decode(mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"reason", "r", "command_type", "HeartbeatCommand"}}}))
	if err != nil {
		t.Fatal(err)
	}
	if c := m.(*HeartbeatRetMsg).Commands[0]; c.CommandType != CommandGeneric || *c.Reason != "r" || c.Args != nil {
		t.Fatalf("command: %#v", c)
	}
	m, err = Decode(mp(om{"type", "RegisterRetMsg"}))
	if err != nil || len(m.(*RegisterRetMsg).ExtraConfig) != 0 {
		t.Fatalf("RegisterRetMsg default: %#v %v", m, err)
	}
	// Every class of the union decodes by its tag.
	for _, name := range KnownTypes() {
		m, err := Decode(mp(om{"type", name}))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Object missing required field") {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if m.TypeName() != name {
			t.Errorf("%s decoded as %s", name, m.TypeName())
		}
	}
	if n := len(KnownTypes()); n != 51 {
		t.Errorf("KnownTypes has %d classes, want 51", n)
	}
}

func TestAnyArgs(t *testing.T) {
	// args with nested values, duplicate keys (Python dict semantics),
	// float32 (re-encoded as float64), bytes, ext and a timestamp.
	args := om{"a", 1, "b", []any{1.5, nil, true, []byte{1, 2}}, "c", om{1, "x", 1.0, "y", true, "z", "k", raw{0xd4, 5, 9}}, "a", 2,
		"f", raw{0xca, 0x3f, 0xc0, 0, 0}, "t", raw{0xd7, 0xff, 0, 0, 0x0f, 0xa0, 0, 0, 0, 1}}
	in := mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "HeartbeatCommand", "reason", nil, "args", args}}})
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	d := *m.(*HeartbeatRetMsg).Commands[0].Args
	if len(d) != 5 || d[0].Key != "a" || d[0].Value.Int != UintOf(2) {
		t.Fatalf("dict: %#v", d)
	}
	c := d[2].Value
	if len(c.Map) != 2 || c.Map[0].Key.Int != UintOf(1) || c.Map[0].Value.Str != "z" {
		t.Fatalf("nested dict dedupe: %#v", c)
	}
	if d[3].Value.Kind != KindFloat || d[3].Value.Float != 1.5 {
		t.Fatalf("float32: %#v", d[3].Value)
	}
	// 1000 ns rounds to 1 µs: timestamp64 with nanos=1000 becomes ...
	if ts := d[4].Value; ts.Kind != KindExt || ts.Ext != -1 {
		t.Fatalf("timestamp: %#v", ts)
	}
	enc := m.AppendMsgpack(nil)
	m2, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m2.AppendMsgpack(nil), enc) {
		t.Fatal("Any values do not round-trip")
	}
	// Unhashable key.
	_, err = Decode(mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", om{"a", om{om{}, 1}}}}}))
	if err == nil || err.Error() != "unhashable type: 'dict'" {
		t.Fatalf("unhashable: %v", err)
	}
	for _, tc := range []struct {
		args om
		want string
	}{
		{om{"a", om{raw{0xd4, 1, 1}, 1}}, "unhashable type: 'msgspec.msgpack.Ext'"},
		{om{"a", om{[]any{1, om{}}, 1}}, "unhashable type: 'dict'"},
		{om{"a", om{om{}, raw{0xc1}}}, "MessagePack data is malformed: invalid opcode '\\xc1' (byte 66)"},
		{om{"a", om{"k", raw{0xd6, 0xff, 0, 0}}}, "Input data was truncated"},
		{om{"a", raw{0xd5, 0xff, 0, 0}}, "Invalid MessagePack timestamp - at `$.commands[0].args[...]`"},
	} {
		in := mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", tc.args}}})
		if _, err := Decode(in); err == nil || err.Error() != tc.want {
			t.Errorf("%x: got %v, want %s", in, err, tc.want)
		}
	}
	// A tuple key (array) and a timestamp key are hashable.
	if _, err := Decode(mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", om{"a", om{[]any{1, "x"}, 1, raw{0xd6, 0xff, 0, 0, 0, 1}, 2}}}}})); err != nil {
		t.Fatal(err)
	}
}

func TestDeepNesting(t *testing.T) {
	b := mp(om{"type", "HeartbeatRetMsg", "commands", []any{om{"command_type", "full_sync", "args", om{"a", raw(bytes.Repeat([]byte{0x91}, 100000))}}}})
	b = append(b, 0)
	_, err := Decode(b)
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassRecursionError {
		t.Fatalf("got %v", err)
	}
}

func TestHugeHeaderDoesNotAllocate(t *testing.T) {
	in := mp(om{"type", "BatchedKVOperationMsg", "operations", raw{0xdd, 0xff, 0xff, 0xff, 0xff, 0x80}})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, err := Decode(in); err == nil {
			t.Fatal("want error")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes", d)
	}
}

func TestInt(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "127", "-32", "-33", "9223372036854775807", "9223372036854775808",
		"18446744073709551615", "-9223372036854775808"} {
		i, err := ParseInt(s)
		if err != nil || i.String() != s {
			t.Errorf("ParseInt(%s) = %v, %v", s, i, err)
		}
		d := newDecoder(i.AppendMsgpack(nil), false)
		j, err := d.BigInt()
		if err != nil || j != i || d.Pos != len(d.B) {
			t.Errorf("%s: msgpack round trip %v %v", s, j, err)
		}
	}
	for _, s := range []string{"18446744073709551616", "-9223372036854775809", "", "x"} {
		if _, err := ParseInt(s); err == nil {
			t.Errorf("ParseInt(%q) succeeded", s)
		}
	}
	if v, ok := IntOf(-5).Int64(); !ok || v != -5 {
		t.Error("Int64(-5)")
	}
	if _, ok := UintOf(math.MaxUint64).Int64(); ok {
		t.Error("Int64(2^64-1) fits")
	}
	seen := map[Int]bool{IntOf(7): true}
	if !seen[UintOf(7)] {
		t.Error("IntOf(7) != UintOf(7)")
	}
}

func TestAppendDoesNotAllocate(t *testing.T) {
	var msgs []Msg
	for _, v := range wiretest.Load(t) {
		m, err := Decode(v.Bytes(t))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m, reflect.ValueOf(m).Elem().Interface().(Msg)) // *T and T
	}
	buf := make([]byte, 0, 1<<16)
	for _, m := range msgs {
		if n := testing.AllocsPerRun(100, func() { buf = m.AppendMsgpack(buf[:0]) }); n != 0 {
			t.Errorf("%s.AppendMsgpack: %v allocs", m.TypeName(), n)
		}
	}
	ops := make([]KVOpEvent, 50)
	keys := make([]Int, 50)
	for i := range ops {
		ops[i] = KVOpEvent{OpType(i % 2), UintOf(uint64(i) * 1e12), int64(i)}
		keys[i] = ops[i].Key
	}
	be := NewBatchEncoder("instance_p0_1", 3, "location_0")
	pe := NewP2PEncoder("instance_p0_1", 3)
	if n := testing.AllocsPerRun(100, func() { buf = be.Append(buf[:0], ops) }); n != 0 {
		t.Errorf("BatchEncoder.Append: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = be.AppendKeys(buf[:0], OpEvict, keys, 7) }); n != 0 {
		t.Errorf("BatchEncoder.AppendKeys: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = pe.Append(buf[:0], keys) }); n != 0 {
		t.Errorf("P2PEncoder.Append: %v allocs", n)
	}
	ie := NewInstanceEncoder("instance_p0_1")
	if n := testing.AllocsPerRun(100, func() { buf = ie.AppendKeys(buf[:0], 3, "location_0", OpAdmit, keys, 7) }); n != 0 {
		t.Errorf("InstanceEncoder.AppendKeys: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { buf = ie.AppendP2P(buf[:0], 3, keys) }); n != 0 {
		t.Errorf("InstanceEncoder.AppendP2P: %v allocs", n)
	}
}

func TestEncoders(t *testing.T) {
	keyKinds := []struct {
		name string
		key  func(i int) Int
	}{
		{"small and negative", func(i int) Int { return IntOf(int64(i*7919) - 1000) }},
		{"every width", func(i int) Int {
			return []Int{IntOf(0), IntOf(127), IntOf(128), IntOf(255), IntOf(65535), IntOf(65536), IntOf(1 << 32),
				IntOf(-33), IntOf(-129), IntOf(-32769), IntOf(-1 << 40), UintOf(1<<64 - 1)}[i%12]
		}},
	}
	for _, n := range []int{0, 1, 15, 16, 50, 70000} {
		for _, kk := range keyKinds {
			for _, op := range []OpType{OpAdmit, OpEvict} {
				for _, firstSeq := range []int64{0, 100, 65530, 65536, 1 << 20, 1<<32 - int64(n), 1<<32 - 51, 1<<32 - 3, -40, 1<<63 - 10} {
					ops := make([]KVOpEvent, n)
					keys := make([]Int, n)
					for i := range ops {
						ops[i] = KVOpEvent{op, kk.key(i), firstSeq + int64(i)}
						keys[i] = ops[i].Key
					}
					m := BatchedKVOperationMsg{InstanceID: "instance_p0_9", WorkerID: 1, Location: "location_2", Operations: ops}
					want := m.AppendMsgpack(nil)
					be := NewBatchEncoder(m.InstanceID, m.WorkerID, m.Location)
					if got := be.Append(nil, ops); !bytes.Equal(got, want) {
						t.Fatalf("n=%d %s %v seq %d: BatchEncoder.Append differs", n, kk.name, op, firstSeq)
					}
					prefix := []byte("kept")
					if got := be.AppendKeys(prefix, op, keys, firstSeq); !bytes.Equal(got[:4], prefix) || !bytes.Equal(got[4:], want) {
						t.Fatalf("n=%d %s %v seq %d: BatchEncoder.AppendKeys differs", n, kk.name, op, firstSeq)
					}
					if be.Size(ops) != len(want) {
						t.Fatalf("n=%d: Size %d, want %d", n, be.Size(ops), len(want))
					}
					ie := NewInstanceEncoder(m.InstanceID)
					for _, w := range []int64{m.WorkerID, 0, 300, -7, 1 << 40} {
						m.WorkerID = w
						want := m.AppendMsgpack(nil)
						if got := ie.AppendKeys(prefix, w, m.Location, op, keys, firstSeq); !bytes.Equal(got[:4], prefix) || !bytes.Equal(got[4:], want) {
							t.Fatalf("n=%d %s %v seq %d worker %d: InstanceEncoder.AppendKeys differs", n, kk.name, op, firstSeq, w)
						}
					}
				}
			}
			p := BatchedP2PLookupMsg{Hashes: make([]Int, n), InstanceID: "x", WorkerID: 2}
			for i := range p.Hashes {
				p.Hashes[i] = kk.key(i)
			}
			pe := NewP2PEncoder("x", 2)
			if got := pe.Append(nil, p.Hashes); !bytes.Equal(got, p.AppendMsgpack(nil)) || pe.Size(p.Hashes) != len(got) {
				t.Fatalf("n=%d %s: P2PEncoder differs", n, kk.name)
			}
			ie := NewInstanceEncoder("x")
			for _, w := range []int64{2, 0, 70000, -1} {
				p.WorkerID = w
				if got := ie.AppendP2P(nil, w, p.Hashes); !bytes.Equal(got, p.AppendMsgpack(nil)) {
					t.Fatalf("n=%d %s worker %d: InstanceEncoder.AppendP2P differs", n, kk.name, w)
				}
			}
		}
	}
}

// TestKVOpFastPathAgreesWithGeneral: batches whose operations are in the
// canonical form, and in every form the fast path must hand to the
// general decoder, decode to the same message or the same error either way.
func TestKVOpFastPathAgreesWithGeneral(t *testing.T) {
	op := func(kvs ...any) om { return om(kvs) }
	batch := func(ops ...any) []byte {
		return mp(om{"type", "BatchedKVOperationMsg", "instance_id", "i", "worker_id", 0, "location", "l", "operations", ops})
	}
	canonical := NewBatchEncoder("i", 0, "l").AppendKeys(nil, OpAdmit, []Int{IntOf(5), IntOf(-300), UintOf(1<<64 - 1)}, 65530)
	tests := []struct {
		name string
		b    []byte
	}{
		{"canonical", canonical},
		{"canonical cut inside a key", canonical[:len(canonical)-12]},
		{"canonical cut after the prefix", canonical[:len(canonical)-14]},
		{"keys reordered", batch(op("key", 1, "seq_num", 2, "op_type", "evict"))},
		{"op_type as str8", batch(op("op_type", raw{0xd9, 5, 'a', 'd', 'm', 'i', 't'}, "key", 1, "seq_num", 2))},
		{"unknown op", batch(op("op_type", "fetch", "key", 1, "seq_num", 2))},
		{"seq_num above int64", batch(op("op_type", "admit", "key", 1, "seq_num", uint64(1<<63)))},
		{"seq_num negative, long form", batch(op("op_type", "admit", "key", 1, "seq_num", raw{0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}))},
		{"key a float", batch(op("op_type", "admit", "key", 1.5, "seq_num", 2))},
		{"extra field", batch(op("op_type", "admit", "key", 1, "seq_num", 2, "x", 3))},
		{"missing seq_num", batch(op("op_type", "admit", "key", 1))},
		{"mixed forms", batch(op("op_type", "admit", "key", 1, "seq_num", 2), op("seq_num", 3, "key", 4, "op_type", "evict"))},
		{"fast, general, fast", batch(op("op_type", "admit", "key", 1, "seq_num", 2), op("seq_num", 3, "key", 4, "op_type", "evict"), op("op_type", "evict", "key", 5, "seq_num", 4))},
		{"every integer width", NewBatchEncoder("i", 0, "l").AppendKeys(nil, OpEvict,
			[]Int{IntOf(0x7f), IntOf(0x80), IntOf(0xffff), IntOf(0x10000), UintOf(1 << 40), IntOf(-1), IntOf(-129), UintOf(1<<64 - 1)}, 1<<32-4)},
		{"wide forms of small integers", batch(op("op_type", "admit", "key", raw{0xcf, 0, 0, 0, 0, 0, 0, 0, 7}, "seq_num", raw{0xcd, 0, 9}))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.b)
			m2, err2 := decodeGeneral(tc.b)
			if !sameResult(m, err, m2, err2) {
				t.Fatalf("fast path %#v, %v; general path %#v, %v", m, err, m2, err2)
			}
			var d Decoder
			if m3, err3 := d.Decode(tc.b); !sameResult(m, err, m3, err3) {
				t.Fatalf("Decode %#v, %v; Decoder %#v, %v", m, err, m3, err3)
			}
		})
	}
}

// TestEncodersWriteTheDecodersFields: for every class with a Go type, the
// encoder writes the tag, then exactly the fields the decoder's list names,
// in its order, so the two cannot drift apart.
func TestEncodersWriteTheDecodersFields(t *testing.T) {
	typed := 0
	for name, c := range classes {
		m := c.new().msg()
		if _, generic := m.(*GenericMsg); generic {
			continue
		}
		typed++
		v, err := DecodeValue(m.AppendMsgpack(nil))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var keys []string
		for _, e := range v.Map {
			keys = append(keys, e.Key.Str)
		}
		if want := append([]string{"type"}, c.spec.Fields...); !reflect.DeepEqual(keys, want) {
			t.Errorf("%s: the encoder writes %q, the decoder reads %q", name, keys, want)
		}
	}
	if typed != 17 {
		t.Errorf("%d classes with a Go type, want 17", typed)
	}
}
