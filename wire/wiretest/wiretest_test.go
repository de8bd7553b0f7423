package wiretest

import "testing"

func TestLoad(t *testing.T) {
	vs := Load(t)
	if len(vs) != 35 {
		t.Fatalf("%d golden vectors, want 35", len(vs))
	}
	if v := ByName(t, "error"); v.Class != "ErrorMsg" || len(v.Bytes(t)) != 46 {
		t.Fatalf("error vector: %+v", v)
	}
	if !JSONEqual(t, []byte(`{"a":18446744073709551615}`), []byte(`{ "a" : 18446744073709551615 }`)) ||
		JSONEqual(t, []byte(`{"a":18446744073709551615}`), []byte(`{"a":18446744073709551614}`)) {
		t.Fatal("JSONEqual does not compare big integers exactly")
	}
}
