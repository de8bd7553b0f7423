package wire

import "testing"

func benchOps(n int) ([]KVOpEvent, []Int) {
	ops := make([]KVOpEvent, n)
	keys := make([]Int, n)
	for i := range ops {
		ops[i] = KVOpEvent{OpAdmit, UintOf(uint64(i * 37 % 10000)), int64(1000 + i)}
		keys[i] = ops[i].Key
	}
	return ops, keys
}

func BenchmarkBatchEncoder50(b *testing.B) {
	ops, _ := benchOps(50)
	e := NewBatchEncoder("instance_p0_3", 0, "location_0")
	buf := make([]byte, 0, e.Size(ops))
	b.ReportAllocs()
	b.SetBytes(int64(e.Size(ops)))
	for b.Loop() {
		buf = e.Append(buf[:0], ops)
	}
}

// BenchmarkBatchEncoderKeys50 is AppendKeys for 50 keys, early in a run
// (sequence numbers around 1000) and in its steady state (around 2^20,
// where they are uint32s).
func BenchmarkBatchEncoderKeys50(b *testing.B) {
	_, keys := benchOps(50)
	e := NewBatchEncoder("instance_p0_3", 0, "location_0")
	for _, bc := range []struct {
		name     string
		firstSeq int64
	}{{"early", 1000}, {"steady", 1 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf = e.AppendKeys(buf[:0], OpEvict, keys, bc.firstSeq)
			}
		})
	}
}

// BenchmarkInstanceEncoderKeys50 is BenchmarkBatchEncoderKeys50's steady
// state through an InstanceEncoder, which writes the worker id and the
// location per frame.
func BenchmarkInstanceEncoderKeys50(b *testing.B) {
	_, keys := benchOps(50)
	e := NewInstanceEncoder("instance_p0_3")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendKeys(buf[:0], 7, "location_0", OpEvict, keys, 1<<20)
	}
}

func BenchmarkBatchedKVAppendMsgpack50(b *testing.B) {
	ops, _ := benchOps(50)
	m := BatchedKVOperationMsg{InstanceID: "instance_p0_3", WorkerID: 0, Location: "location_0", Operations: ops}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendMsgpack(buf[:0])
	}
}

func BenchmarkP2PEncoder100(b *testing.B) {
	_, keys := benchOps(100)
	e := NewP2PEncoder("instance_p0_3", 0)
	buf := make([]byte, 0, e.Size(keys))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.Append(buf[:0], keys)
	}
}

func BenchmarkDecodeBatched50(b *testing.B) {
	ops, _ := benchOps(50)
	msg := NewBatchEncoder("instance_p0_3", 0, "location_0").Append(nil, ops)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoderBatched50 is BenchmarkDecodeBatched50 through a reused
// Decoder (a server's PULL loop).
func BenchmarkDecoderBatched50(b *testing.B) {
	ops, _ := benchOps(50)
	msg := NewBatchEncoder("instance_p0_3", 0, "location_0").Append(nil, ops)
	var d Decoder
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := d.Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHeartbeat(b *testing.B) {
	msg := HeartbeatMsg{InstanceID: "instance_p0_3", WorkerID: 0, IP: "127.0.0.1", Port: 10000, PeerInitURL: Str("tcp://127.0.0.1:20000")}.AppendMsgpack(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}
