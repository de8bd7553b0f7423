// Package wire implements LMCache's cache-controller messages and a
// MessagePack codec that is byte-for-byte identical to msgspec's output.
//
// Every message of LMCache's `Msg` union is a Go type whose name is the
// Python class name. Encoding (AppendMsgpack) writes exactly what
// msgspec.msgpack.encode writes: a map whose first entry is the tag
// ("type": class name), then every field in declaration order, defaults
// included, with the smallest integer, string, array and map headers.
//
// Decode follows msgspec.msgpack.decode(buf, type=Msg): the tag may appear at
// any position, keys may come in any order, unknown keys are skipped, missing
// defaulted fields get their defaults and types are checked strictly. Its
// error texts reproduce msgspec's (see Error). FromJSON follows the
// controller's JSON path (json.loads followed by msgspec.convert), and ToJSON
// writes the JSON form used by the golden vectors.
//
// Decode and FromJSON return pointers (*RegisterMsg, ...); every message type
// implements Msg with value receivers, so both T and *T satisfy Msg.
package wire
