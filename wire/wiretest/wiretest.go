// Package wiretest gives tests across lmfast the golden vectors of
// testdata/controller-messages.jsonl: msgpack bytes made by msgspec from
// LMCache's own message classes (testdata/README.md says how). The file is
// embedded in the package, so every test that imports it finds the vectors
// wherever the repository is checked out.
package wiretest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
)

// golden is testdata/controller-messages.jsonl: one JSON object a line.
//
//go:embed testdata/controller-messages.jsonl
var golden []byte

// Vector is one golden line: the message's name, its LMCache class, its JSON
// value (with "type") and msgspec's encoding of it as lowercase hex.
type Vector struct {
	Name  string          `json:"name"`
	Class string          `json:"class"`
	Value json.RawMessage `json:"value"`
	Hex   string          `json:"hex"`
}

// Bytes returns the vector's msgpack bytes.
func (v Vector) Bytes(tb testing.TB) []byte {
	tb.Helper()
	b, err := hex.DecodeString(v.Hex)
	if err != nil {
		tb.Fatalf("golden %s: bad hex: %v", v.Name, err)
	}
	return b
}

// Load reads every golden vector.
func Load(tb testing.TB) []Vector {
	tb.Helper()
	var out []Vector
	sc := bufio.NewScanner(bytes.NewReader(golden))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v Vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("golden line %d: %v", len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 {
		tb.Fatal("no golden vectors")
	}
	return out
}

// ByName returns the vector called name, failing the test if there is none.
func ByName(tb testing.TB, name string) Vector {
	tb.Helper()
	for _, v := range Load(tb) {
		if v.Name == name {
			return v
		}
	}
	tb.Fatalf("no golden vector %q", name)
	return Vector{}
}

// JSONEqual compares two JSON documents semantically with exact numbers
// (big integers are not rounded through float64).
func JSONEqual(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	return reflect.DeepEqual(decode(tb, a), decode(tb, b))
}

func decode(tb testing.TB, b []byte) any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		tb.Fatalf("bad JSON %s: %v", b, err)
	}
	return v
}
