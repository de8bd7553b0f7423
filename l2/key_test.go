package l2

import (
	"bytes"
	"testing"
)

func TestBenchFileNames(t *testing.T) {
	tests := []struct {
		idx  uint64
		want string
	}{
		{0, "bench-model@0x00000000@0@00000000000000000000000000000000.data"},
		{5, "bench-model@0x00000005@0@00000000000000000000000000000005.data"},
		{4096, "bench-model@0x00001000@0@00000000000000000000000000001000.data"},
		{0xdeadbeef, "bench-model@0xdeadbeef@0@000000000000000000000000deadbeef.data"},
		{1 << 36, "bench-model@0x1000000000@0@00000000000000000000001000000000.data"}, // kv_rank past 8 digits: #010x grows
	}
	for _, tc := range tests {
		if got := string(AppendBenchName(nil, tc.idx)); got != tc.want {
			t.Errorf("AppendBenchName(%d) = %s, want %s", tc.idx, got, tc.want)
		}
		if got := BenchKey(tc.idx).FileName(); got != tc.want {
			t.Errorf("BenchKey(%d).FileName() = %s, want %s", tc.idx, got, tc.want)
		}
		k, ok := ParseFileName(tc.want)
		if !ok || k.KVRank != tc.idx || k.ModelName != BenchModel || !bytes.Equal(k.ChunkHash, BenchKey(tc.idx).ChunkHash) {
			t.Errorf("ParseFileName(%s) = %+v, %v", tc.want, k, ok)
		}
	}
	if got := TmpName("bench-model@0x00000005@0@00000000000000000000000000000005.data"); got != "bench-model@0x00000005@0@00000000000000000000000000000005.tmp" {
		t.Errorf("TmpName = %s", got)
	}
	var s Scratch
	if got := string(s.tmpName(5, true)); got != "bench-model@0x00000005@0@00000000000000000000000000000005.tmp\x00" {
		t.Errorf("tmpName = %q", got)
	}
}

func TestGeneralFileNames(t *testing.T) {
	tests := []struct {
		key  ObjectKey
		want string
	}{
		{ObjectKey{ChunkHash: []byte{0xab, 0x01}, ModelName: "meta-llama/Llama-3-8B", KVRank: 0x01020304, ObjectGroupID: 26},
			"meta-llama-SEP-Llama-3-8B@0x01020304@1a@ab01.data"},
		{ObjectKey{ChunkHash: []byte{0xff}, ModelName: "m", KVRank: 1, CacheSalt: "tenant-7"},
			"m@0x00000001@0@ff@tenant-7.data"},
	}
	for _, tc := range tests {
		if got := tc.key.FileName(); got != tc.want {
			t.Errorf("FileName = %s, want %s", got, tc.want)
		}
		k, ok := ParseFileName(tc.want)
		if !ok || k.FileName() != tc.want {
			t.Errorf("ParseFileName(%s) round trip = %+v, %v", tc.want, k, ok)
		}
	}
	for _, bad := range []string{"x.tmp", "a@b.data", "a@0x1@0@zz.data", "a@0x1@0@ff@s@t.data", "a@@0@ff.data"} {
		if _, ok := ParseFileName(bad); ok {
			t.Errorf("ParseFileName(%q) accepted", bad)
		}
	}
}

// TestNameNoAlloc: building a key's names on the I/O path allocates nothing.
func TestNameNoAlloc(t *testing.T) {
	var s Scratch
	if n := testing.AllocsPerRun(100, func() { s.finalName(12345); s.tmpName(12345, true) }); n != 0 {
		t.Fatalf("%v allocations per key", n)
	}
}

func BenchmarkAppendBenchName(b *testing.B) {
	buf := make([]byte, 0, 128)
	for i := 0; i < b.N; i++ {
		buf = AppendBenchName(buf[:0], uint64(i))
	}
}
