package wire

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

type goldenVector struct {
	Name  string          `json:"name"`
	Class string          `json:"class"`
	Value json.RawMessage `json:"value"`
	Hex   string          `json:"hex"`
}

// goldenPath finds shared/golden/controller-messages.jsonl by walking up
// from the test's working directory.
func goldenPath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "golden", "controller-messages.jsonl")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("shared/golden/controller-messages.jsonl not found above the test directory")
		}
		dir = parent
	}
}

func loadGolden(t testing.TB) []goldenVector {
	t.Helper()
	f, err := os.Open(goldenPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenVector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v goldenVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("golden line %d: %v", len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no golden vectors")
	}
	return out
}

// jsonEqual compares two JSON documents semantically with exact numbers.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(jsonDecode(t, a), jsonDecode(t, b))
}

func jsonDecode(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return v
}

func TestGolden(t *testing.T) {
	vectors := loadGolden(t)
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
			if !jsonEqual(t, js, v.Value) {
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
