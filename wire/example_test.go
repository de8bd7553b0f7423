package wire_test

import (
	"fmt"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/pyjson"
)

func ExampleBatchedKVOperationMsg() {
	m := wire.BatchedKVOperationMsg{
		InstanceID: "instance_p0_0",
		WorkerID:   0,
		Location:   "location_0",
		Operations: []wire.KVOpEvent{
			{OpType: wire.OpAdmit, Key: wire.UintOf(42), SeqNum: 0},
			{OpType: wire.OpAdmit, Key: wire.UintOf(1000), SeqNum: 1},
		},
	}
	b := m.AppendMsgpack(nil)
	fmt.Println(len(b))
	fmt.Printf("%x\n", b[:6])

	// The hot-path encoder writes the same bytes without allocating.
	enc := wire.NewBatchEncoder("instance_p0_0", 0, "location_0")
	b2 := enc.Append(make([]byte, 0, 256), m.Operations)
	fmt.Println(string(b2) == string(b))

	back, _ := wire.Decode(b)
	js, _ := pyjson.Encode(back)
	fmt.Println(string(js))
	// Output:
	// 157
	// 85a474797065
	// true
	// {"type":"BatchedKVOperationMsg","instance_id":"instance_p0_0","worker_id":0,"location":"location_0","operations":[{"op_type":"admit","key":42,"seq_num":0},{"op_type":"admit","key":1000,"seq_num":1}]}
}

func ExampleDecode() {
	_, err := wire.Decode([]byte{0x2a})
	fmt.Println(err)
	// Output:
	// Expected `object`, got `int`
}

// A Decoder reuses its batch between calls: copy what must outlive the
// next Decode.
func ExampleDecoder() {
	enc := wire.NewBatchEncoder("instance_0", 0, "location_0")
	frame := enc.AppendKeys(nil, wire.OpAdmit, []wire.Int{wire.IntOf(7), wire.IntOf(8)}, 1)
	var d wire.Decoder
	m, err := d.Decode(frame)
	if err != nil {
		panic(err)
	}
	b := m.(*wire.BatchedKVOperationMsg)
	fmt.Println(b.InstanceID, b.Location, len(b.Operations), b.Operations[1].SeqNum)
	// Output: instance_0 location_0 2 2
}
