package wire

import (
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/lmfast/lmfast/wire/wiretest"
)

// TestDecoderMatchesDecode decodes every golden vector, then a run of
// batches from several workers, through one Decoder and checks each result
// against Decode, including after the reused batch was overwritten.
func TestDecoderMatchesDecode(t *testing.T) {
	var frames [][]byte
	for _, v := range wiretest.Load(t) {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	for w := range 4 {
		enc := NewBatchEncoder("instance_"+string(rune('a'+w)), int64(w), "location_0")
		keys := make([]Int, 10*(w+1))
		for i := range keys {
			keys[i] = IntOf(int64(i*w - 7))
		}
		frames = append(frames, enc.AppendKeys(nil, OpAdmit, keys, int64(w)), enc.AppendKeys(nil, OpEvict, keys[:w], 0))
	}
	frames = append(frames, []byte{0x80}, frames[len(frames)-1][:20], append(append([]byte{}, frames[0]...), 0))
	var d Decoder
	for i, b := range frames {
		want, wantErr := Decode(b)
		got, err := d.Decode(b)
		if !sameResult(want, wantErr, got, err) {
			t.Fatalf("frame %d: Decode %#v, %v; Decoder %#v, %v", i, want, wantErr, got, err)
		}
		if batch, ok := got.(*BatchedKVOperationMsg); ok {
			kept := *batch
			kept.Operations = append([]KVOpEvent(nil), batch.Operations...)
			if !reflect.DeepEqual(&kept, want) {
				t.Fatalf("frame %d: copy differs", i)
			}
		}
	}
}

// TestDecoderAllocs: after the first batch of a worker, decoding further
// batches of the same size allocates nothing.
func TestDecoderAllocs(t *testing.T) {
	ops, _ := benchOps(50)
	msgs := [][]byte{
		NewBatchEncoder("instance_p0_1", 0, "location_0").Append(nil, ops),
		NewBatchEncoder("instance_p0_2", 3, "location_1").Append(nil, ops[:20]),
	}
	var d Decoder
	for _, m := range msgs {
		if _, err := d.Decode(m); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := d.Decode(msgs[i%2]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per batch, want 0", allocs)
	}
}
