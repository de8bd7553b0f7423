package wire

import "github.com/lmfast/lmfast/wire/internal/mpack"

// PeekType returns the tag of the message encoded in b (the value of its
// "type" field: the class name, e.g. TypeBatchedP2PLookupRetMsg) without
// decoding its other fields, and checks that b is exactly one well-formed
// MessagePack map: one that is truncated, has mpack.Trailing bytes, is not a map
// or has no "type" field is an error (the text Decode gives for the same
// fault). It allocates nothing on success; the tag is a view into b.
//
// A nil error says only that b is framed as one message with that tag: a
// field of the wrong type, a missing field or an unknown tag is found by
// Decode, not here. It is for a load generator's reply check, which needs
// the reply's kind on every round trip and the rest only when the kind is
// not the one expected.
func PeekType(b []byte) ([]byte, error) {
	fast := decoder{} // no error path: a decoder that stays on the stack
	fast.B = b
	if tag, err := fast.peekType(false); err == nil {
		return tag, nil
	}
	// Again, keeping the path the error's text names.
	_, err := newDecoder(b, false).peekType(true)
	return nil, err
}

// peekType reads the map's "type" field and skips the others; paths keeps
// the position within the message for error texts.
func (d *decoder) peekType(paths bool) ([]byte, error) {
	n, err := d.MapLen("object")
	if err != nil {
		return nil, err
	}
	var tag []byte
	found := false
	for i := 0; i < n; i++ {
		if paths {
			d.PushKey()
		}
		key, err := d.CStr()
		if err != nil {
			return nil, err
		}
		if paths {
			d.Pop()
		}
		if !found && string(key) == "type" {
			if paths {
				d.PushField("type")
			}
			if tag, err = d.CStr(); err != nil {
				return nil, err
			}
			if paths {
				d.Pop()
			}
			found = true
			continue
		}
		if err := d.Skip(); err != nil {
			return nil, err
		}
	}
	if d.Pos != len(d.B) {
		return nil, mpack.Trailing(d.Pos)
	}
	if !found {
		return nil, d.Missing("type")
	}
	return tag, nil
}
