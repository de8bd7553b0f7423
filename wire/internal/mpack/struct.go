package mpack

import "github.com/lmfast/lmfast/internal/pyfmt"

// InvalidTag builds msgspec's "Invalid value 'X'" for an unknown or
// mismatched tag at the current path.
func (d *Dec) InvalidTag(tag []byte) error {
	if d.Conv {
		return d.Verr("Invalid value " + pyfmt.Repr(string(tag)))
	}
	if e := UTF8Error(tag); e != nil {
		return e
	}
	return d.Verr("Invalid value '" + string(tag) + "'")
}

// StructSpec describes a msgspec Struct encoded as a map.
type StructSpec struct {
	TagField string   // the tag's key; "" for untagged structs
	Fields   []string // declaration order
	NReq     int      // leading fields without a default
}

// StructBody decodes n map entries of a struct described by s (msgspec
// mpack_decode_struct_map): any key order, repeated keys overwrite, tag
// keys checked against tag, then missing required fields reported in
// declaration order. field decodes the value of field i from the cursor
// (the path already names it); extra, if not nil, the value of a key s
// does not declare, which is otherwise skipped.
func (d *Dec) StructBody(n int, s *StructSpec, tag string, field func(i int) error, extra func(key []byte) error) error {
	if err := d.Enter(); err != nil {
		return err
	}
	defer d.Leave()
	var seen uint64
	for i := 0; i < n; i++ {
		d.PushKey()
		key, err := d.CStr()
		if err != nil {
			return err
		}
		d.Pop()
		idx := s.index(key)
		if idx < 0 {
			if s.TagField != "" && string(key) == s.TagField {
				if d.Conv { // convert: the tag was already read
					if err := d.Skip(); err != nil {
						return err
					}
					continue
				}
				d.PushField(s.TagField)
				got, err := d.CStr()
				if err != nil {
					return err
				}
				if string(got) != tag {
					return d.InvalidTag(got)
				}
				d.Pop()
				continue
			}
			if extra != nil {
				if err := extra(key); err != nil {
					return err
				}
				continue
			}
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		d.PushField(s.Fields[idx])
		if err := field(idx); err != nil {
			return err
		}
		d.Pop()
		seen |= 1 << uint(idx)
	}
	for i := 0; i < s.NReq; i++ {
		if seen&(1<<uint(i)) == 0 {
			return d.Missing(s.Fields[i])
		}
	}
	return nil
}

// UnionTag finds the tag of a tagged-union map of n entries starting at the
// cursor (msgspec mpack_decode_struct_union). It returns the tag bytes and
// the number of entries left to decode; the cursor is either just after the
// tag (tag first) or back at the first entry.
func (d *Dec) UnionTag(n int, tagField string) ([]byte, int, error) {
	start := d.Pos
	for i := 0; i < n; i++ {
		d.PushKey()
		key, err := d.CStr()
		if err != nil {
			return nil, 0, err
		}
		d.Pop()
		if string(key) == tagField {
			d.PushField(tagField)
			tag, err := d.tagValue()
			if err != nil {
				return nil, 0, err
			}
			d.Pop()
			if i == 0 {
				return tag, n - 1, nil
			}
			d.Pos = start
			return tag, n, nil
		}
		if err := d.Skip(); err != nil {
			return nil, 0, err
		}
	}
	return nil, 0, d.Missing(tagField)
}

// tagValue reads a tag's value: a str, as raw bytes (with msgspec.convert's rules
// when Conv is set).
func (d *Dec) tagValue() ([]byte, error) {
	if d.Conv {
		op, err := d.Peek()
		if err != nil {
			return nil, err
		}
		if !(op >= 0xa0 && op <= 0xbf) && op != 0xd9 && op != 0xda && op != 0xdb {
			err := d.Expected("str", pyTypeName(op))
			if e := d.Skip(); e != nil {
				return nil, e
			}
			return nil, err
		}
	}
	return d.CStr()
}

// index returns the position of key in Fields, or -1.
func (s *StructSpec) index(key []byte) int {
	for i, f := range s.Fields {
		if f == string(key) {
			return i
		}
	}
	return -1
}
