package l2

import (
	"strings"
	"testing"
)

func TestParseSpecsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string
	}{
		{"not json", []string{`{type:fs}`}, "Invalid JSON for --l2-adapter #1: "},
		{"empty", []string{``}, "Invalid JSON for --l2-adapter #1: Expecting value: line 1 column 1 (char 0)"},
		{"trailing", []string{`{"type":"fs","base_path":"/x"} {}`}, "Invalid JSON for --l2-adapter #1: Extra data"},
		{"array", []string{`[1]`}, "--l2-adapter #1: expected a JSON object, got list"},
		{"string", []string{`"fs"`}, "--l2-adapter #1: expected a JSON object, got str"},
		{"float", []string{`1.5`}, "--l2-adapter #1: expected a JSON object, got float"},
		{"null", []string{`null`}, "--l2-adapter #1: expected a JSON object, got NoneType"},
		{"no type", []string{`{"base_path":"/x"}`}, "--l2-adapter #1: missing 'type' field"},
		{"null type", []string{`{"type":null}`}, "--l2-adapter #1: missing 'type' field"},
		{"unknown", []string{`{"type":"s3"}`}, "--l2-adapter #1: unknown adapter type 's3'. Known: fs, fs_native, mock"},
		{"int type", []string{`{"type":5}`}, "--l2-adapter #1: unknown adapter type 5. Known: fs, fs_native, mock"},
		{"second spec", []string{`{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`, `{"type":"fs"}`},
			"--l2-adapter #2 ('fs'): base_path must be a non-empty string"},
		{"empty base", []string{`{"type":"fs","base_path":""}`}, "--l2-adapter #1 ('fs'): base_path must be a non-empty string"},
		{"tmp dir type", []string{`{"type":"fs","base_path":"/x","relative_tmp_dir":3}`}, "('fs'): relative_tmp_dir must be a string"},
		{"read ahead float", []string{`{"type":"fs","base_path":"/x","read_ahead_size":4096.0}`}, "('fs'): read_ahead_size must be a positive integer"},
		{"read ahead zero", []string{`{"type":"fs","base_path":"/x","read_ahead_size":0}`}, "('fs'): read_ahead_size must be a positive integer"},
		{"odirect string", []string{`{"type":"fs","base_path":"/x","use_odirect":"yes"}`}, "('fs'): use_odirect must be a boolean"},
		{"odirect null", []string{`{"type":"fs","base_path":"/x","use_odirect":null}`}, "('fs'): use_odirect must be a boolean"},
		{"native workers", []string{`{"type":"fs_native","base_path":"/x","num_workers":0}`}, "('fs_native'): num_workers must be a positive integer"},
		{"native tmp null", []string{`{"type":"fs_native","base_path":"/x","relative_tmp_dir":null}`}, "('fs_native'): relative_tmp_dir must be a string"},
		{"native capacity", []string{`{"type":"fs_native","base_path":"/x","max_capacity_gb":-1}`}, "('fs_native'): max_capacity_gb must be a non-negative number"},
		{"mock size", []string{`{"type":"mock","mock_bandwidth_gb":1}`}, "('mock'): max_size_gb must be a positive number"},
		{"mock bandwidth", []string{`{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":0}`}, "('mock'): mock_bandwidth_gb must be a positive number"},
		{"eviction policy", []string{`{"type":"fs","base_path":"/x","eviction":{"eviction_policy":"FIFO"}}`},
			"('fs'): eviction.eviction_policy must be 'LRU', 'IsolatedLRU', or 'noop', got 'FIFO'"},
		{"eviction missing policy", []string{`{"type":"fs","base_path":"/x","eviction":{}}`}, "got None"},
		{"eviction watermark", []string{`{"type":"fs","base_path":"/x","eviction":{"eviction_policy":"LRU","trigger_watermark":"hi"}}`},
			"could not convert string to float: 'hi'"},
		{"serde not dict", []string{`{"type":"fs","base_path":"/x","serde":"fp8"}`}, "('fs'): 'serde' must be a dict, got str"},
		{"serde no type", []string{`{"type":"fs","base_path":"/x","serde":{}}`}, "('fs'): 'serde' dict must include a 'type' field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpecs(tc.in)
			if err == nil {
				t.Fatalf("accepted %v", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseSpecsOK(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{`{"type":"fs","base_path":"/data","relative_tmp_dir":"tmp","read_ahead_size":null,"use_odirect":false}`,
			Spec{Type: "fs", BasePath: "/data", RelativeTmpDir: "tmp"}},
		{`{"type":"fs","base_path":"/d","use_odirect":true,"read_ahead_size":65536,"unknown_key":[1,2]}`,
			Spec{Type: "fs", BasePath: "/d", UseODirect: true, ReadAheadSize: 65536}},
		{`{"type":"fs","base_path":"/d","read_ahead_size":true}`, // Python: True is an int (1)
			Spec{Type: "fs", BasePath: "/d", ReadAheadSize: 1}},
		{`{"type":"fs_native","base_path":"/d","num_workers":8,"relative_tmp_dir":"","max_capacity_gb":1.5}`,
			Spec{Type: "fs_native", BasePath: "/d", NumWorkers: 8, MaxCapacityGB: 1.5}},
		{`{"type":"mock","max_size_gb":2,"mock_bandwidth_gb":0.5,"eviction":{"eviction_policy":"LRU","trigger_watermark":"0.9"},"persist_enabled":0,"serde":{"type":"fp8"}}`,
			Spec{Type: "mock", MaxSizeGB: 2, MockBandwidthGB: 0.5}},
	}
	for _, tc := range tests {
		got, err := ParseSpecs([]string{tc.in})
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		tc.want.Raw = tc.in
		if got[0] != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got[0], tc.want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{{"a'b", `"a'b"`}, {`a"b'`, `'a"b\''`}, {"x\ny", `'x\ny'`}, {true, "True"}, {nil, "None"}, {[]any{"a", nil}, "['a', None]"}}
	for _, tc := range tests {
		if got := pyRepr(tc.in); got != tc.want {
			t.Errorf("pyRepr(%#v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzParseSpecs: no input panics, and a spec that parses re-parses to the
// same value and names an adapter lmfast supports.
func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{
		`{"type":"fs","base_path":"/tmp/lmcache-bench"}`,
		`{"type":"fs","base_path":"/data","relative_tmp_dir":"tmp","read_ahead_size":null,"use_odirect":false}`,
		`{"type":"fs_native","base_path":"/d","num_workers":4,"max_capacity_gb":0}`,
		`{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":10,"eviction":{"eviction_policy":"LRU"}}`,
		`{"type":"s3"}`, `[]`, `{"type":1e400}`, `{"type":"fs","base_path":"\ud800"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseSpecs([]string{in})
		if err != nil {
			if strings.ContainsRune(err.Error(), '\n') && !strings.HasPrefix(err.Error(), "Invalid JSON") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if !isSupported(got[0].Type) {
			t.Fatalf("accepted type %q", got[0].Type)
		}
		again, err := ParseSpecs([]string{in})
		if err != nil || again[0] != got[0] {
			t.Fatalf("re-parse differs: %+v vs %+v (%v)", again, got, err)
		}
		if got[0].Type != "mock" && got[0].BasePath == "" {
			t.Fatal("fs spec without base_path accepted")
		}
	})
}
