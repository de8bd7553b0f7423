// Package wire is the codec of LMCache's cache-controller messages: a Go
// type for every class of LMCache's `Msg` union, and a MessagePack
// encoding and decoding that are byte for byte msgspec's.
//
// Entry points:
//
//   - Encoding: each message's AppendMsgpack writes exactly what
//     msgspec.msgpack.encode writes. BatchEncoder and P2PEncoder write the
//     load generator's hot-path messages with their constant bytes encoded
//     once, allocating nothing; InstanceEncoder does the same for every
//     worker of one instance (worker id and location written per frame).
//   - Decoding: Decode follows msgspec.msgpack.decode(buf, type=Msg) and
//     DecodeNext reads concatenated messages; a Decoder decodes the same
//     way while reusing its memory, for a server's receive loop. Errors are
//     *Error values whose texts are msgspec's.
//   - Generic values: DecodeValue reads any MessagePack value as msgspec
//     reads an Any-typed field, and Convert builds a message from such a
//     value as msgspec.convert does. Package wire/pyjson builds the JSON
//     form of messages on these two; package zmqx carries the bytes.
//
// Encoding writes a map whose first entry is the tag ("type": the Python
// class name, also the Go type's name), then every field in declaration
// order, defaults included, with the smallest integer, string, array and
// map headers. Decoding accepts the tag at any position and keys in any
// order, skips unknown keys, fills in missing defaulted fields and checks
// types strictly. Classes without a Go type of their own decode to
// GenericMsg, their Any-typed values to Value.
//
// This package holds the message types, their encoders and the typed
// decoders of the hot path. The MessagePack primitives and msgspec's error
// texts are package wire/internal/mpack's; msgspec's Any-typed values,
// Python's equality and the generically decoded classes are package
// wire/msgspec's, whose types this package re-exports under the same names
// (api.go).
//
// Decode returns pointers (*RegisterMsg, ...); every message type
// implements Msg with value receivers, so both T and *T satisfy Msg.
package wire
