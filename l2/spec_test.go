package l2

import (
	"fmt"
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
		{"fs capacity string", []string{`{"type":"fs","base_path":"/x","max_capacity_gb":"4"}`}, "('fs'): max_capacity_gb must be a non-negative number"},
		{"fs capacity null", []string{`{"type":"fs","base_path":"/x","max_capacity_gb":null}`}, "('fs'): max_capacity_gb must be a non-negative number"},
		{"fs recover string", []string{`{"type":"fs","base_path":"/x","recover_on_start":"yes"}`}, "('fs'): recover_on_start must be a boolean"},
		{"native recover null", []string{`{"type":"fs_native","base_path":"/x","recover_on_start":null}`}, "('fs_native'): recover_on_start must be a boolean"},
		{"native recover int", []string{`{"type":"fs_native","base_path":"/x","recover_on_start":1}`}, "('fs_native'): recover_on_start must be a boolean"},
		{"capacity before recover", []string{`{"type":"fs","base_path":"/x","max_capacity_gb":-2,"recover_on_start":0}`}, "max_capacity_gb must be"},
		{"eviction ratio null", []string{`{"type":"fs","base_path":"/x","eviction":{"eviction_policy":"LRU","eviction_ratio":null}}`},
			"float() argument must be a string or a real number, not 'NoneType'"},
		{"eviction not dict", []string{`{"type":"fs","base_path":"/x","eviction":"LRU"}`}, "('fs'): 'eviction' must be a dict, got str"},
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
			Spec{Type: "fs", BasePath: "/data", RelativeTmpDir: "tmp", RecoverOnStart: true}},
		{`{"type":"fs","base_path":"/d","use_odirect":true,"read_ahead_size":65536,"unknown_key":[1,2]}`,
			Spec{Type: "fs", BasePath: "/d", UseODirect: true, ReadAheadSize: 65536, RecoverOnStart: true}},
		{`{"type":"fs","base_path":"/d","read_ahead_size":true}`, // Python: True is an int (1)
			Spec{Type: "fs", BasePath: "/d", ReadAheadSize: 1, RecoverOnStart: true}},
		{`{"type":"fs_native","base_path":"/d","num_workers":8,"relative_tmp_dir":"","max_capacity_gb":1.5}`,
			Spec{Type: "fs_native", BasePath: "/d", NumWorkers: 8, MaxCapacityGB: 1.5, capacityText: "1.5", RecoverOnStart: true}},
		{`{"type":"fs","base_path":"/d","max_capacity_gb":2,"recover_on_start":false,"eviction":{"eviction_policy":"LRU"}}`,
			Spec{Type: "fs", BasePath: "/d", MaxCapacityGB: 2, capacityText: "2",
				Eviction: Eviction{Policy: "LRU", TriggerWatermark: 0.8, EvictionRatio: 0.2}}},
		{`{"type":"fs_native","base_path":"/d","max_capacity_gb":true,"eviction":{"eviction_policy":"noop","trigger_watermark":true,"eviction_ratio":"0.5"}}`,
			Spec{Type: "fs_native", BasePath: "/d", MaxCapacityGB: 1, capacityText: "True", RecoverOnStart: true,
				Eviction: Eviction{Policy: "noop", TriggerWatermark: 1, EvictionRatio: 0.5}}},
		{`{"type":"mock","max_size_gb":2,"mock_bandwidth_gb":0.5,"eviction":{"eviction_policy":"LRU","trigger_watermark":"0.9"},"persist_enabled":0,"serde":{"type":"fp8"}}`,
			Spec{Type: "mock", MaxSizeGB: 2, MockBandwidthGB: 0.5, Eviction: Eviction{Policy: "LRU", TriggerWatermark: 0.9, EvictionRatio: 0.2}}},
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

// TestSpecWarnings: a capacity without an eviction block is warned about
// in one line, with LMCache's text (fs_native_l2_adapter.py since PR
// #4787), the value as Python prints it and the path; with a block, with
// a null block (LMCache: d.get("eviction") is None) and without a
// capacity, as LMCache.
func TestSpecWarnings(t *testing.T) {
	const native = `fs_native: max_capacity_gb=4000 is declared for /data/lmcache but no 'eviction' block is configured, ` +
		`so it is used for usage accounting only and will NOT bound disk usage. Add an eviction block to enforce it, ` +
		`e.g. "eviction": {"eviction_policy": "LRU"}.`
	tests := []struct {
		in   string
		want []string
	}{
		{`{"type":"fs_native","base_path":"/data/lmcache","num_workers":16,"max_capacity_gb":4000}`, []string{native}},
		{`{"type":"fs_native","base_path":"/data/lmcache","max_capacity_gb":4000,"eviction":null}`, []string{native}},
		{`{"type":"fs_native","base_path":"/d","max_capacity_gb":4000,"eviction":{"eviction_policy":"LRU"}}`, nil},
		{`{"type":"fs_native","base_path":"/d","max_capacity_gb":0}`, nil},
		{`{"type":"fs","base_path":"/d","max_capacity_gb":0.5}`, []string{"fs: max_capacity_gb=0.5 is declared for /d but no 'eviction' block"}},
		{`{"type":"fs","base_path":"/d","max_capacity_gb":1e-12,"eviction":{"eviction_policy":"LRU"}}`,
			[]string{"FSL2Adapter max_capacity_gb=1e-12 rounds down to 0 bytes; eviction stays disabled. Use a larger capacity."}},
		{`{"type":"mock","max_size_gb":1,"mock_bandwidth_gb":1}`, nil},
	}
	for _, tc := range tests {
		specs, err := ParseSpecs([]string{tc.in})
		if err != nil {
			t.Fatal(err)
		}
		got := specs[0].Warnings()
		if len(got) != len(tc.want) {
			t.Fatalf("%s: warnings %q, want %q", tc.in, got, tc.want)
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(got[i], w) || strings.ContainsRune(got[i], '\n') {
				t.Errorf("%s: warning %q, want %q", tc.in, got[i], w)
			}
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
		`{"type":"fs","base_path":"/d","max_capacity_gb":1,"eviction":{"eviction_policy":"LRU","trigger_watermark":"nan"}}`,
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
		if err != nil || fmt.Sprint(again[0]) != fmt.Sprint(got[0]) { // Sprint: a NaN watermark equals itself
			t.Fatalf("re-parse differs: %+v vs %+v (%v)", again, got, err)
		}
		for _, w := range got[0].Warnings() {
			if strings.ContainsAny(w, "\n\r") {
				t.Fatalf("multi-line warning %q", w)
			}
		}
		if got[0].Type != "mock" && got[0].BasePath == "" {
			t.Fatal("fs spec without base_path accepted")
		}
	})
}
