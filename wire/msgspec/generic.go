package msgspec

// Schemas of the Msg classes without their own Go type. Orchestration
// messages (OrchMsg/OrchRetMsg) are checked against the field lists of the
// protocol (docs/protocol.md, "Messages"); control messages (controller -> worker), whose fields
// that page does not pin down, are decoded leniently: every field is kept, in
// wire order, as an Any value.

import (
	"sort"
	"strconv"

	"github.com/lmfast/lmfast/wire/internal/mpack"
)

// Class is a class of LMCache's Msg union without a Go type of its own,
// decoded generically (package wire's GenericMsg): its fields checked
// against their declared types with msgspec's errors, or for a lenient
// class kept as they come, as Any values.
type Class struct {
	name    string
	fields  []genericField
	lenient bool
	spec    *mpack.StructSpec
}

// LookupClass returns the class tagged tag, or nil.
func LookupClass(tag []byte) *Class { return classes[string(tag)] }

// ClassNames returns the names (tags) of every class, sorted.
func ClassNames() []string {
	out := make([]string, 0, len(classes))
	for name := range classes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Name returns the class name, its tag.
func (c *Class) Name() string { return c.name }

// ReadFields decodes the n entries left of a message of class c (the
// cursor after its tag, or at the first entry when the tag is not first):
// its fields in declaration order with defaults filled in, or for a
// lenient class every field in wire order.
func (c *Class) ReadFields(d *mpack.Dec, n int) ([]Field, error) {
	var fields []Field
	if !c.lenient {
		fields = make([]Field, len(c.fields))
		for i, fl := range c.fields {
			fields[i] = Field{Name: fl.name, Value: fl.def}
		}
	}
	field := func(i int) error {
		v, err := typed(d, c.fields[i].typ)
		if err != nil {
			return err
		}
		fields[i].Value = v
		return nil
	}
	extra := func(key []byte) error {
		if !c.lenient {
			return d.Skip()
		}
		if mpack.UTF8Error(key) != nil { // can never name a real field: skipped
			return d.Skip()
		}
		d.PushField(string(key))
		v, err := readAny(d, false)
		if err != nil {
			return err
		}
		d.Pop()
		for i := range fields {
			if fields[i].Name == string(key) {
				fields[i].Value = v
				return nil
			}
		}
		fields = append(fields, Field{Name: string(key), Value: v})
		return nil
	}
	if err := d.StructBody(n, c.spec, c.name, field, extra); err != nil {
		return nil, err
	}
	return fields, nil
}

// classes holds every Class by name.
var classes = map[string]*Class{}

func init() { registerClasses() }

type ftKind uint8

const (
	ftAny ftKind = iota
	ftStr
	ftInt
	ftFloat
	ftBool
	ftOpt   // Optional[elem]
	ftList  // list[elem]
	ftTuple // tuple[elems...]
	ftDict  // Dict[key, val]
	ftDataclass
)

type ftype struct {
	kind  ftKind
	elem  *ftype
	elems []*ftype
	key   *ftype
	spec  *mpack.StructSpec
	types []*ftype // dataclass field types
}

var (
	tAny   = &ftype{kind: ftAny}
	tStr   = &ftype{kind: ftStr}
	tInt   = &ftype{kind: ftInt}
	tFloat = &ftype{kind: ftFloat}
	tBool  = &ftype{kind: ftBool}
)

func tOpt(e *ftype) *ftype       { return &ftype{kind: ftOpt, elem: e} }
func tList(e *ftype) *ftype      { return &ftype{kind: ftList, elem: e} }
func tTuple(es ...*ftype) *ftype { return &ftype{kind: ftTuple, elems: es} }
func tDict(k, v *ftype) *ftype   { return &ftype{kind: ftDict, key: k, elem: v} }

// repr is msgspec's typenode_simple_repr.
func (t *ftype) repr() string {
	switch t.kind {
	case ftStr:
		return "str"
	case ftInt:
		return "int"
	case ftFloat:
		return "float"
	case ftBool:
		return "bool"
	case ftOpt:
		return t.elem.repr() + " | null"
	case ftList, ftTuple:
		return "array"
	case ftDict, ftDataclass:
		return "object"
	}
	return "any"
}

type genericField struct {
	name   string
	typ    *ftype
	def    Value
	hasDef bool
}

func f(name string, t *ftype) genericField { return genericField{name: name, typ: t} }
func fd(name string, t *ftype, def Value) genericField {
	return genericField{name: name, typ: t, def: def, hasDef: true}
}

// registerClasses fills classes.
func registerClasses() {
	tokens := tList(tInt)
	pos := tTuple(tStr, tStr)
	workerInfo := &ftype{kind: ftDataclass,
		spec:  &mpack.StructSpec{Fields: []string{"instance_id", "worker_id", "ip", "port", "peer_init_url", "registration_time", "last_heartbeat_time"}, NReq: 7},
		types: []*ftype{tStr, tInt, tStr, tInt, tOpt(tStr), tFloat, tFloat}}
	strict := map[string][]genericField{
		"LookupMsg":             {f("event_id", tStr), f("tokens", tokens)},
		"LookupRetMsg":          {f("event_id", tStr), f("layout_info", tDict(tStr, tTuple(tStr, tInt)))},
		"QueryInstMsg":          {f("event_id", tStr), f("ip", tStr)},
		"QueryInstRetMsg":       {f("event_id", tStr), f("instance_id", tOpt(tStr))},
		"ClearMsg":              {f("event_id", tStr), f("instance_id", tStr), f("location", tStr)},
		"ClearRetMsg":           {f("event_id", tStr), f("num_tokens", tInt)},
		"PinMsg":                {f("event_id", tStr), f("instance_id", tStr), f("location", tStr), f("tokens", tokens)},
		"PinRetMsg":             {f("event_id", tStr), f("num_tokens", tInt)},
		"CompressMsg":           {f("event_id", tStr), f("instance_id", tStr), f("method", tStr), f("location", tStr), fd("tokens", tOpt(tokens), Value{})},
		"DecompressMsg":         {f("event_id", tStr), f("instance_id", tStr), f("method", tStr), f("location", tStr), fd("tokens", tOpt(tokens), Value{})},
		"MoveMsg":               {f("event_id", tStr), f("old_position", pos), f("new_position", pos), fd("tokens", tOpt(tokens), Value{}), fd("copy", tOpt(tBool), BoolValue(false))},
		"HealthMsg":             {f("event_id", tStr), f("instance_id", tStr)},
		"HealthRetMsg":          {f("event_id", tStr), f("error_codes", tDict(tInt, tInt))},
		"CheckFinishMsg":        {f("event_id", tStr)},
		"CheckFinishRetMsg":     {f("status", tStr)},
		"QueryWorkerInfoMsg":    {f("event_id", tStr), f("instance_id", tStr), f("worker_ids", tOpt(tokens))},
		"QueryWorkerInfoRetMsg": {f("event_id", tStr), f("worker_infos", tList(workerInfo))},
	}
	for name, fields := range strict {
		registerClass(&Class{name: name, fields: fields})
	}
	// Not pinned by the spec (see the package comment): known tags,
	// lenient fields; also the Orch replies the spec leaves open.
	for _, name := range []string{
		"ClearWorkerMsg", "ClearWorkerRetMsg", "PinWorkerMsg", "PinWorkerRetMsg",
		"CompressWorkerMsg", "CompressWorkerRetMsg", "DecompressWorkerMsg", "DecompressWorkerRetMsg",
		"MoveWorkerMsg", "MoveWorkerRetMsg", "HealthWorkerMsg", "HealthWorkerRetMsg",
		"CheckFinishWorkerMsg", "CheckFinishWorkerRetMsg",
		"CompressRetMsg", "DecompressRetMsg", "MoveRetMsg",
	} {
		registerClass(&Class{name: name, lenient: true})
	}
}

// registerClass adds gc to classes, with its StructSpec.
func registerClass(gc *Class) {
	names := make([]string, len(gc.fields))
	nreq := 0
	for i, fl := range gc.fields {
		names[i] = fl.name
		if !fl.hasDef && nreq == i {
			nreq = i + 1
		}
	}
	gc.spec = &mpack.StructSpec{TagField: "type", Fields: names, NReq: nreq}
	classes[gc.name] = gc
}

// typed decodes a value of type t into a Value.
func typed(d *mpack.Dec, t *ftype) (Value, error) {
	return typedAs(d, t, t.repr())
}

// typedAs is typed with expected as the type named in errors (an
// Optional's, for its element).
func typedAs(d *mpack.Dec, t *ftype, expected string) (Value, error) {
	switch t.kind {
	case ftAny:
		return readAny(d, false)
	case ftStr:
		s, err := d.StrBytes(expected)
		return StrValue(string(s)), err
	case ftInt:
		op, err := d.Peek()
		if err != nil {
			return Value{}, err
		}
		if !mpack.IsIntOp(op) && !(d.Conv && mpack.IsExtOp(op)) {
			return Value{}, d.WrongType(expected)
		}
		i, err := d.BigInt()
		return IntValue(i), err
	case ftFloat:
		op, err := d.Peek()
		if err != nil {
			return Value{}, err
		}
		if op != 0xca && op != 0xcb && !mpack.IsIntOp(op) && !(d.Conv && mpack.IsExtOp(op)) {
			return Value{}, d.WrongType(expected)
		}
		x, err := d.Float()
		return FloatValue(x), err
	case ftBool:
		op, err := d.Peek()
		if err != nil {
			return Value{}, err
		}
		if op != 0xc2 && op != 0xc3 {
			return Value{}, d.WrongType(expected)
		}
		b, err := d.Bool()
		return BoolValue(b), err
	case ftOpt:
		if isNil, err := d.IsNil(); err != nil || isNil {
			return Value{}, err
		}
		return typedAs(d, t.elem, expected)
	case ftList, ftTuple:
		n, err := d.ArrayLen(expected)
		if err != nil {
			return Value{}, err
		}
		if t.kind == ftTuple && n != len(t.elems) {
			return Value{}, d.Verr("Expected `array` of length " + strconv.Itoa(len(t.elems)) + ", got " + strconv.Itoa(n))
		}
		if err := d.Enter(); err != nil {
			return Value{}, err
		}
		defer d.Leave()
		out := make([]Value, 0, d.CapFor(n))
		for i := 0; i < n; i++ {
			d.PushIndex()
			d.SetIndex(i)
			et := t.elem
			if t.kind == ftTuple {
				et = t.elems[i]
			}
			v, err := typed(d, et)
			if err != nil {
				return Value{}, err
			}
			d.Pop()
			out = append(out, v)
		}
		return ArrayValue(out...), nil
	case ftDict:
		n, err := d.MapLen(expected)
		if err != nil {
			return Value{}, err
		}
		if err := d.Enter(); err != nil {
			return Value{}, err
		}
		defer d.Leave()
		var m anyMap
		for i := 0; i < n; i++ {
			d.PushKey()
			k, err := typed(d, t.key)
			if err != nil {
				return Value{}, err
			}
			d.Pop()
			d.PushValues()
			v, err := typed(d, t.elem)
			if err != nil {
				return Value{}, err
			}
			d.Pop()
			m.set(k, v)
		}
		return MapValue(m.entries...), nil
	case ftDataclass:
		n, err := d.MapLen(expected)
		if err != nil {
			return Value{}, err
		}
		vals := make([]Value, len(t.types))
		field := func(i int) error {
			v, err := typed(d, t.types[i])
			vals[i] = v
			return err
		}
		if err := d.StructBody(n, t.spec, "", field, nil); err != nil {
			return Value{}, err
		}
		m := make([]Entry, len(t.types))
		for i := range m {
			m[i] = Entry{StrValue(t.spec.Fields[i]), vals[i]}
		}
		return MapValue(m...), nil
	}
	return Value{}, d.WrongType(expected)
}
