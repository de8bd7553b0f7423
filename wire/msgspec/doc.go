// Package msgspec reproduces what msgspec does with the values package
// wire's typed decoders have no Go type for: Any-typed values decoded into
// Python objects, with Python's equality, and the classes of LMCache's Msg
// union decoded generically with msgspec's typed validation.
//
// Entry points:
//
//   - Value (with Kind, Entry, Dict and the ...Value constructors): an
//     Any-typed value as msgspec decodes it, dicts with Python's key
//     equality (1 == 1.0 == True, a repeated key keeping its first
//     position), timestamps at datetime's microsecond precision; its
//     AppendMsgpack writes back msgspec's bytes for the same object.
//   - DecodeValue decodes a whole buffer into a Value; ReadOptDict reads an
//     Optional[Dict[str, Any]] at a cursor of package wire/internal/mpack,
//     for wire's decoder of HeartbeatCommand.args.
//   - Class, LookupClass and ClassNames: the Msg classes without a Go type
//     of their own; Class.ReadFields decodes one's fields as Fields.
//
// It does not import package wire: wire re-exports its types under the same
// names (wire.Value, wire.Dict, ...) and dispatches the tags it has no Go
// type for to LookupClass. Errors are package mpack's, as wire's are.
package msgspec
