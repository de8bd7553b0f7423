package wire_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/shamaton/msgpack/v2"

	"github.com/lmfast/lmfast/wire"
	"github.com/lmfast/lmfast/wire/pyjson"
	"github.com/lmfast/lmfast/wire/wiretest"
)

// TestIndependentDecoderAgrees holds the bytes lmfast puts on the wire to
// an independent MessagePack implementation (shamaton/msgpack): every
// golden vector and frames from the hot-path encoders (admit and evict
// batches of every key width, lookups) must be well-formed msgpack to it,
// and its generic tree must equal what this package's decoder reads (via
// the JSON form, numbers compared by value).
func TestIndependentDecoderAgrees(t *testing.T) {
	frames := map[string][]byte{}
	for _, v := range wiretest.Load(t) {
		frames["golden "+v.Name] = v.Bytes(t)
	}
	r := rand.New(rand.NewPCG(5, 6))
	keys := make([]wire.Int, 40)
	for i := range keys {
		switch i % 4 {
		case 0:
			keys[i] = wire.IntOf(int64(r.IntN(128)))
		case 1:
			keys[i] = wire.IntOf(-int64(r.Uint64N(1 << 40)))
		case 2:
			keys[i] = wire.UintOf(r.Uint64())
		default:
			keys[i] = wire.IntOf(int64(r.IntN(70000)))
		}
	}
	be := wire.NewBatchEncoder("instance_p0_7", 3, "location_1")
	for _, seq := range []int64{0, 65530, 1 << 20, 1<<32 - 10} {
		frames[fmt.Sprintf("admit seq %d", seq)] = be.AppendKeys(nil, wire.OpAdmit, keys, seq)
		frames[fmt.Sprintf("evict seq %d", seq)] = be.AppendKeys(nil, wire.OpEvict, keys, seq)
	}
	frames["lookup"] = wire.NewP2PEncoder("instance_p0_2", 1).Append(nil, keys)

	for name, b := range frames {
		t.Run(name, func(t *testing.T) {
			var theirs any
			if err := msgpack.Unmarshal(b, &theirs); err != nil {
				t.Fatalf("shamaton/msgpack rejects %x: %v", b, err)
			}
			m, err := wire.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			js, err := pyjson.Encode(m)
			if err != nil {
				t.Skipf("no JSON form: %v", err)
			}
			var ours any
			d := json.NewDecoder(bytes.NewReader(js))
			d.UseNumber()
			if err := d.Decode(&ours); err != nil {
				t.Fatal(err)
			}
			if a, b := canonical(theirs), canonical(ours); !reflect.DeepEqual(a, b) {
				t.Fatalf("shamaton reads\n%v\nthis package reads\n%v", a, b)
			}
		})
	}
}

// canonical turns either decoder's generic tree into one form: maps keyed
// by string, numbers as their decimal value.
func canonical(v any) any {
	switch v := v.(type) {
	case map[any]any:
		out := map[string]any{}
		for k, e := range v {
			out[fmt.Sprint(k)] = canonical(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canonical(e)
		}
		return out
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return "int:" + strconv.FormatInt(i, 10)
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return "int:" + strconv.FormatUint(u, 10)
		}
		f, _ := v.Float64()
		return "float:" + strconv.FormatFloat(f, 'g', -1, 64)
	case float32:
		return "float:" + strconv.FormatFloat(float64(v), 'g', -1, 64)
	case float64:
		return "float:" + strconv.FormatFloat(v, 'g', -1, 64)
	case int8, int16, int32, int64, int:
		return "int:" + fmt.Sprint(v)
	case uint8, uint16, uint32, uint64, uint:
		return "int:" + fmt.Sprint(v)
	}
	return v
}
