package wire

import "github.com/lmfast/lmfast/wire/internal/mpack"

// The MessagePack writers the message encoders use: package mpack's, under
// short names.

func putUint(b []byte, v uint64) int             { return mpack.PutUint(b, v) }
func putInt(b []byte, v int64) int               { return mpack.PutInt(b, v) }
func appendUint(dst []byte, v uint64) []byte     { return mpack.AppendUint(dst, v) }
func appendInt(dst []byte, v int64) []byte       { return mpack.AppendInt(dst, v) }
func appendStr(dst []byte, s string) []byte      { return mpack.AppendStr(dst, s) }
func appendBin(dst []byte, b []byte) []byte      { return mpack.AppendBin(dst, b) }
func appendArrayHeader(dst []byte, n int) []byte { return mpack.AppendArrayHeader(dst, n) }
func appendMapHeader(dst []byte, n int) []byte   { return mpack.AppendMapHeader(dst, n) }
func appendNil(dst []byte) []byte                { return mpack.AppendNil(dst) }
func appendBool(dst []byte, b bool) []byte       { return mpack.AppendBool(dst, b) }
func appendFloat(dst []byte, f float64) []byte   { return mpack.AppendFloat(dst, f) }
func appendOptStr(dst []byte, s *string) []byte  { return mpack.AppendOptStr(dst, s) }
func tok(s string) string                        { return mpack.Tok(s) }
