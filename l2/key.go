package l2

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// This file is the one place that maps a key to its file: its name, the
// temp name a store writes first, and the benchmark's key numbering. The
// adapters resolve these names relative to their directory descriptors.

// BenchModel is the model name of every benchmark key.
const BenchModel = "bench-model"

// File-name pieces of LMCache's fs adapter (fs_l2_adapter.py).
const (
	keySep        = "@"
	slashReplace  = "-SEP-"
	dataExt       = ".data"
	tmpExt        = ".tmp"
	benchHashSize = 16
)

// ObjectKey is LMCache's ObjectKey (lmcache/v1/distributed/api.py).
type ObjectKey struct {
	ChunkHash     []byte
	ModelName     string
	KVRank        uint64
	ObjectGroupID uint64
	CacheSalt     string
}

// BenchKey returns the key the benchmark uses for key number idx:
// chunk_hash = idx as 16 big-endian bytes, model "bench-model",
// kv_rank = idx, group 0, no salt.
func BenchKey(idx uint64) ObjectKey {
	h := make([]byte, benchHashSize)
	for i := 0; i < 8; i++ {
		h[15-i] = byte(idx >> (8 * i))
	}
	return ObjectKey{ChunkHash: h, ModelName: BenchModel, KVRank: idx}
}

// FileName returns the key's file name in LMCache's layout:
// <model with / as -SEP->@0x<kv_rank, 8+ hex digits>@<group hex>@<hash hex>[@<salt>].data
func (k ObjectKey) FileName() string { return string(AppendFileName(nil, k)) }

// AppendFileName appends k's file name to dst.
func AppendFileName(dst []byte, k ObjectKey) []byte {
	dst = append(dst, strings.ReplaceAll(k.ModelName, "/", slashReplace)...)
	dst = append(dst, "@0x"...)
	dst = appendHexPad(dst, k.KVRank, 8)
	dst = append(dst, '@')
	dst = strconv.AppendUint(dst, k.ObjectGroupID, 16)
	dst = append(dst, '@')
	dst = hex.AppendEncode(dst, k.ChunkHash)
	if k.CacheSalt != "" {
		dst = append(dst, '@')
		dst = append(dst, k.CacheSalt...)
	}
	return append(dst, dataExt...)
}

// AppendBenchName appends the file name of benchmark key idx without
// allocating: bench-model@0x%08x@0@%032x.data.
func AppendBenchName(dst []byte, idx uint64) []byte {
	dst = append(dst, BenchModel+"@0x"...)
	dst = appendHexPad(dst, idx, 8)
	dst = append(dst, "@0@0000000000000000"...) // the high 8 bytes of the hash are 0
	dst = appendHexPad(dst, idx, 16)
	return append(dst, dataExt...)
}

// TmpName turns a final file name (ending in .data) into the temp name
// LMCache uses when relative_tmp_dir is unset: .data replaced by .tmp.
func TmpName(final string) string { return strings.TrimSuffix(final, dataExt) + tmpExt }

// ParseFileName reverses FileName as LMCache's _filename_to_object_key
// does: 4 '@'-separated fields, or 5 with a salt; ok is false for anything
// else.
func ParseFileName(name string) (k ObjectKey, ok bool) {
	stem, found := strings.CutSuffix(name, dataExt)
	if !found {
		return k, false
	}
	parts := strings.Split(stem, keySep)
	if len(parts) != 4 && len(parts) != 5 {
		return k, false
	}
	if len(parts) == 5 {
		k.CacheSalt = parts[4]
	}
	rank, err := parseHexPrefixed(parts[1])
	if err != nil {
		return k, false
	}
	group, err := parseHexPrefixed(parts[2])
	if err != nil {
		return k, false
	}
	h, err := hex.DecodeString(parts[3])
	if err != nil {
		return k, false
	}
	k.ModelName = strings.ReplaceAll(parts[0], slashReplace, "/")
	k.KVRank, k.ObjectGroupID, k.ChunkHash = rank, group, h
	return k, true
}

// parseHexPrefixed parses hex like Python's int(s, 16): an optional 0x.
func parseHexPrefixed(s string) (uint64, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if t == "" {
		return 0, fmt.Errorf("empty hex")
	}
	return strconv.ParseUint(strings.ReplaceAll(t, "_", ""), 16, 64)
}

const hexDigits = "0123456789abcdef"

// appendHexPad appends v in lowercase hex, zero-padded to at least width
// digits.
func appendHexPad(dst []byte, v uint64, width int) []byte {
	var buf [16]byte
	i := len(buf)
	for v != 0 || len(buf)-i < width {
		i--
		buf[i] = hexDigits[v&0xF]
		v >>= 4
		if i == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// Scratch is one I/O worker's reusable memory for building names.
type Scratch struct {
	final [256]byte
	tmp   [256]byte
}

// finalName returns key idx's NUL-terminated file name in s.
func (s *Scratch) finalName(idx uint64) []byte {
	b := AppendBenchName(s.final[:0], idx)
	return append(b, 0)
}

// tmpName returns key idx's NUL-terminated temp name: <name>.tmp when
// sameDir, else the final name (it lives in the temp directory).
func (s *Scratch) tmpName(idx uint64, sameDir bool) []byte {
	b := AppendBenchName(s.tmp[:0], idx)
	if sameDir {
		b = append(b[:len(b)-len(dataExt)], tmpExt...)
	}
	return append(b, 0)
}
