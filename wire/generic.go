package wire

// Schemas of the Msg classes without their own Go type. Orchestration
// messages (OrchMsg/OrchRetMsg) are checked against the field lists of the
// protocol (docs/protocol.md, "Messages"); control messages (controller -> worker), whose fields
// that page does not pin down, are decoded leniently: every field is kept, in
// wire order, as an Any value.

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
	spec  *structSpec
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

type genericClass struct {
	name    string
	fields  []genericField
	lenient bool
	spec    *structSpec
}

func f(name string, t *ftype) genericField { return genericField{name: name, typ: t} }
func fd(name string, t *ftype, def Value) genericField {
	return genericField{name: name, typ: t, def: def, hasDef: true}
}

func registerGeneric() {
	tokens := tList(tInt)
	pos := tTuple(tStr, tStr)
	workerInfo := &ftype{kind: ftDataclass,
		spec:  &structSpec{fields: []string{"instance_id", "worker_id", "ip", "port", "peer_init_url", "registration_time", "last_heartbeat_time"}, nreq: 7},
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
		registerGenericClass(&genericClass{name: name, fields: fields})
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
		registerGenericClass(&genericClass{name: name, lenient: true})
	}
}

func registerGenericClass(gc *genericClass) {
	names := make([]string, len(gc.fields))
	nreq := 0
	for i, fl := range gc.fields {
		names[i] = fl.name
		if !fl.hasDef && nreq == i {
			nreq = i + 1
		}
	}
	gc.spec = spec(nreq, names...)
	register(gc.name, gc.spec, func() decodable {
		g := &genericDec{cls: gc, m: &GenericMsg{Type: gc.name}}
		if !gc.lenient {
			g.m.Fields = make([]Field, len(gc.fields))
			for i, fl := range gc.fields {
				g.m.Fields[i] = Field{Name: fl.name, Value: fl.def}
			}
		}
		return g
	})
}

type genericDec struct {
	cls *genericClass
	m   *GenericMsg
}

func (g *genericDec) msg() Msg { return g.m }

func (g *genericDec) setField(d *decoder, i int) error {
	v, err := d.typed(g.cls.fields[i].typ)
	if err != nil {
		return err
	}
	g.m.Fields[i].Value = v
	return nil
}

func (g *genericDec) setExtra(d *decoder, key []byte) error {
	if !g.cls.lenient {
		return d.skip()
	}
	if utf8Error(key) != nil { // can never name a real field: skipped
		return d.skip()
	}
	d.pushField(string(key))
	v, err := d.any(false)
	if err != nil {
		return err
	}
	d.pop()
	for i := range g.m.Fields {
		if g.m.Fields[i].Name == string(key) {
			g.m.Fields[i].Value = v
			return nil
		}
	}
	g.m.Fields = append(g.m.Fields, Field{Name: string(key), Value: v})
	return nil
}

// typed decodes a value of type t into a Value.
func (d *decoder) typed(t *ftype) (Value, error) {
	return d.typedAs(t, t.repr())
}

func (d *decoder) typedAs(t *ftype, expected string) (Value, error) {
	switch t.kind {
	case ftAny:
		return d.any(false)
	case ftStr:
		s, err := d.strBytes(expected)
		return StrValue(string(s)), err
	case ftInt:
		op, err := d.peek()
		if err != nil {
			return Value{}, err
		}
		if !isIntOp(op) && !(d.conv && isExtOp(op)) {
			return Value{}, d.wrongType(expected)
		}
		i, err := d.bigInt()
		return IntValue(i), err
	case ftFloat:
		op, err := d.peek()
		if err != nil {
			return Value{}, err
		}
		if op != 0xca && op != 0xcb && !isIntOp(op) && !(d.conv && isExtOp(op)) {
			return Value{}, d.wrongType(expected)
		}
		x, err := d.float()
		return FloatValue(x), err
	case ftBool:
		op, err := d.peek()
		if err != nil {
			return Value{}, err
		}
		if op != 0xc2 && op != 0xc3 {
			return Value{}, d.wrongType(expected)
		}
		b, err := d.bool()
		return BoolValue(b), err
	case ftOpt:
		if isNil, err := d.isNil(); err != nil || isNil {
			return Value{}, err
		}
		return d.typedAs(t.elem, expected)
	case ftList, ftTuple:
		n, err := d.arrayLen(expected)
		if err != nil {
			return Value{}, err
		}
		if t.kind == ftTuple && n != len(t.elems) {
			return Value{}, d.verr("Expected `array` of length " + itoa(int64(len(t.elems))) + ", got " + itoa(int64(n)))
		}
		if err := d.enter(); err != nil {
			return Value{}, err
		}
		defer d.leave()
		out := make([]Value, 0, d.capFor(n))
		for i := 0; i < n; i++ {
			d.pushIndex()
			d.setIndex(i)
			et := t.elem
			if t.kind == ftTuple {
				et = t.elems[i]
			}
			v, err := d.typed(et)
			if err != nil {
				return Value{}, err
			}
			d.pop()
			out = append(out, v)
		}
		return ArrayValue(out...), nil
	case ftDict:
		n, err := d.mapLen(expected)
		if err != nil {
			return Value{}, err
		}
		if err := d.enter(); err != nil {
			return Value{}, err
		}
		defer d.leave()
		var m anyMap
		for i := 0; i < n; i++ {
			d.pushKey()
			k, err := d.typed(t.key)
			if err != nil {
				return Value{}, err
			}
			d.pop()
			d.pushValues()
			v, err := d.typed(t.elem)
			if err != nil {
				return Value{}, err
			}
			d.pop()
			m.set(k, v)
		}
		return MapValue(m.entries...), nil
	case ftDataclass:
		n, err := d.mapLen(expected)
		if err != nil {
			return Value{}, err
		}
		dc := &dataclassDec{t: t, vals: make([]Value, len(t.types))}
		if err := d.structBody(n, t.spec, "", dc); err != nil {
			return Value{}, err
		}
		m := make([]Entry, len(t.types))
		for i := range m {
			m[i] = Entry{StrValue(t.spec.fields[i]), dc.vals[i]}
		}
		return MapValue(m...), nil
	}
	return Value{}, d.wrongType(expected)
}

type dataclassDec struct {
	t    *ftype
	vals []Value
}

func (c *dataclassDec) setField(d *decoder, i int) error {
	v, err := d.typed(c.t.types[i])
	c.vals[i] = v
	return err
}
