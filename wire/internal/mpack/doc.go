// Package mpack is MessagePack as msgspec writes and reads it: the
// smallest-form writers, the Int every MessagePack integer fits in, and a
// reading cursor whose errors are msgspec's, texts and error path
// (" - at `$.operations[3].key`") included.
//
// Entry points:
//
//   - Writing: AppendInt, AppendStr, AppendMapHeader and the other Append
//     functions; PutUint and PutInt for encoders that fill a buffer in
//     place; Tok for pre-encoded keys and tags.
//   - Reading: Dec, set up with Reset. Its typed readers (Str, Int64,
//     BigInt, Float, ArrayLen, MapLen, ...) fail as msgspec does for a
//     field of that type; StructBody and UnionTag decode msgspec Structs
//     and tagged unions encoded as maps; Skip, Enter/Leave and the Push/Pop
//     methods of the error path serve the decoders built on it.
//   - Errors: Error, whose text is Python's str() of the msgspec or CPython
//     exception, and its Class constants.
//
// It serves package wire's typed decoders and package wire/msgspec's
// emulation of msgspec's Any-typed and generic decoding; it knows no
// message.
package mpack
