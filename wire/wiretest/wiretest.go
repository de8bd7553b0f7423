package wiretest

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

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

// Path finds shared/golden/controller-messages.jsonl by walking up from the
// test's working directory (CI checks the repo out beside shared/). A
// missing file fails the test: the golden vectors are never optional.
func Path(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "golden", "controller-messages.jsonl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("shared/golden/controller-messages.jsonl not found above the test directory")
		}
		dir = parent
	}
}

// Load reads every golden vector.
func Load(tb testing.TB) []Vector {
	tb.Helper()
	f, err := os.Open(Path(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []Vector
	sc := bufio.NewScanner(f)
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
