// Package pyjson is the JSON form of LMCache's controller messages, as
// the controller's Python side reads and writes it: the `value` form of
// the golden vectors, {"type": "<Class>", ...fields in declaration order}.
//
// Decode reads a message the way the controller's JSON path does:
// json.loads (Python's parser, its quirks and its JSONDecodeError texts),
// then msgspec.convert(obj, type=Msg) (wire.Convert). Encode writes a
// message with exact integers, as msgspec.json writes it.
//
// The package sits on top of package wire, which knows nothing of JSON.
package pyjson
