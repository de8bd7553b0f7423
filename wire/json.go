package wire

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/lmfast/lmfast/internal/pyfmt"
)

// FromJSON decodes a message from JSON the way the controller's JSON path
// does: json.loads, then msgspec.convert(obj, type=Msg). It accepts the
// golden `value` form ({"type": "<Class>", ...fields}). Integers must fit in
// [-2^63, 2^64-1].
func FromJSON(b []byte) (Msg, error) {
	if e := utf8Error(b); e != nil { // json.loads decodes bytes as UTF-8 first
		return nil, e
	}
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	mp := v.AppendMsgpack(nil)
	return newDecoder(mp, true).msg()
}

// jsonBigIntExt marks, inside FromJSON's intermediate MessagePack, an
// integer outside the MessagePack range.
const jsonBigIntExt = 0

type jsonParser struct {
	s     []byte
	pos   int
	depth int
}

// parseJSON parses like Python's json.loads: duplicate keys keep their first
// position and last value; NaN, Infinity and -Infinity are accepted.
// Error texts follow Python's JSONDecodeError.
func parseJSON(b []byte) (Value, error) {
	p := jsonParser{s: b}
	p.ws()
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	p.ws()
	if p.pos != len(p.s) {
		return Value{}, p.err("Extra data", p.pos)
	}
	return v, nil
}

func (p *jsonParser) err(msg string, at int) error {
	if at > len(p.s) {
		at = len(p.s)
	}
	prefix := p.s[:at]
	char := utf8.RuneCount(prefix)
	line := 1 + strings.Count(string(prefix), "\n")
	col := char + 1
	if i := strings.LastIndexByte(string(prefix), '\n'); i >= 0 {
		col = utf8.RuneCount(prefix[i+1:]) + 1
	}
	return &Error{Class: ClassJSONDecodeError, Msg: msg + ": line " + strconv.Itoa(line) + " column " +
		strconv.Itoa(col) + " (char " + strconv.Itoa(char) + ")"}
}

func (p *jsonParser) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) lit(word string) bool {
	if strings.HasPrefix(string(p.s[p.pos:]), word) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value() (Value, error) {
	if p.pos >= len(p.s) {
		return Value{}, p.err("Expecting value", p.pos)
	}
	switch c := p.s[p.pos]; {
	case c == '"':
		s, err := p.str()
		return StrValue(s), err
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == 'n' && p.lit("null"):
		return Value{}, nil
	case c == 't' && p.lit("true"):
		return BoolValue(true), nil
	case c == 'f' && p.lit("false"):
		return BoolValue(false), nil
	case c == 'N' && p.lit("NaN"):
		return FloatValue(math.NaN()), nil
	case c == 'I' && p.lit("Infinity"):
		return FloatValue(math.Inf(1)), nil
	case c == '-' && p.lit("-Infinity"):
		return FloatValue(math.Inf(-1)), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return Value{}, p.err("Expecting value", p.pos)
}

func (p *jsonParser) number() (Value, error) {
	start := p.pos
	i := p.pos
	if p.s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(p.s) && p.s[i] == '0' {
		i++
	} else if digits() == 0 {
		return Value{}, p.err("Expecting value", start)
	}
	isFloat := false
	if i+1 < len(p.s) && p.s[i] == '.' && p.s[i+1] >= '0' && p.s[i+1] <= '9' {
		i++
		digits()
		isFloat = true
	}
	if i < len(p.s) && (p.s[i] == 'e' || p.s[i] == 'E') {
		j := i
		i++
		if i < len(p.s) && (p.s[i] == '+' || p.s[i] == '-') {
			i++
		}
		if digits() == 0 {
			i = j
		} else {
			isFloat = true
		}
	}
	p.pos = i
	text := string(p.s[start:i])
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, p.err("Expecting value", start)
		}
		return FloatValue(f), nil
	}
	n, err := ParseInt(text)
	if err != nil {
		// Python keeps arbitrary-precision ints; carry the digits along.
		return Value{Kind: KindExt, Ext: jsonBigIntExt, Bin: []byte(text)}, nil
	}
	return IntValue(n), nil
}

func (p *jsonParser) str() (string, error) {
	start := p.pos
	p.pos++
	var b []byte
	for {
		if p.pos >= len(p.s) {
			return "", p.err("Unterminated string starting at", start)
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(b) {
				b = []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
			}
			return string(b), nil
		case c < 0x20:
			return "", p.err("Invalid control character at", p.pos)
		case c == '\\':
			if p.pos+1 >= len(p.s) {
				return "", p.err("Unterminated string starting at", start)
			}
			e := p.s[p.pos+1]
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4(p.pos + 2)
				if !ok {
					return "", p.err("Invalid \\uXXXX escape", p.pos+1)
				}
				p.pos += 6
				if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+1 < len(p.s) && p.s[p.pos] == '\\' && p.s[p.pos+1] == 'u' {
					if r2, ok := p.hex4(p.pos + 2); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
						r = utf16.DecodeRune(r, r2)
						p.pos += 6
					}
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", p.err("Invalid \\escape: "+pyfmt.Repr(string(e)), p.pos)
			}
			p.pos += 2
		default:
			b = append(b, c)
			p.pos++
		}
	}
}

func (p *jsonParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.s[at:at+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

func (p *jsonParser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &Error{Class: ClassRecursionError, Msg: "maximum recursion depth exceeded while decoding a JSON document"}
	}
	return nil
}

func (p *jsonParser) array() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++
	p.ws()
	out := []Value{}
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return ArrayValue(out...), nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		out = append(out, v)
		p.ws()
		if p.pos < len(p.s) && p.s[p.pos] == ']' {
			p.pos++
			return ArrayValue(out...), nil
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ',' {
			return Value{}, p.err("Expecting ',' delimiter", p.pos)
		}
		p.pos++
		p.ws()
	}
}

func (p *jsonParser) object() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	defer func() { p.depth-- }()
	p.pos++
	p.ws()
	var m anyMap
	m.entries = []Entry{}
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return MapValue(m.entries...), nil
	}
	for {
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return Value{}, p.err("Expecting property name enclosed in double quotes", p.pos)
		}
		k, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return Value{}, p.err("Expecting ':' delimiter", p.pos)
		}
		p.pos++
		p.ws()
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		m.set(StrValue(k), v)
		p.ws()
		if p.pos < len(p.s) && p.s[p.pos] == '}' {
			p.pos++
			return MapValue(m.entries...), nil
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ',' {
			return Value{}, p.err("Expecting ',' delimiter", p.pos)
		}
		p.pos++
		p.ws()
	}
}

// ToJSON writes m in the golden `value` form: {"type": "<Class>", then the
// fields in declaration order}, with exact integers. Bytes are written as
// base64 strings and timestamps as RFC 3339 strings (as msgspec.json does);
// other Ext values cannot be written.
func ToJSON(m Msg) ([]byte, error) {
	w := jsonWriter{}
	w.b = append(w.b, `{"type":`...)
	w.str(m.TypeName())
	switch m := deref(m).(type) {
	case RegisterMsg:
		w.addr(m.InstanceID, m.WorkerID, m.IP, m.Port)
		w.key("peer_init_url")
		w.optStr(m.PeerInitURL)
	case HeartbeatMsg:
		w.addr(m.InstanceID, m.WorkerID, m.IP, m.Port)
		w.key("peer_init_url")
		w.optStr(m.PeerInitURL)
	case DeRegisterMsg:
		w.addr(m.InstanceID, m.WorkerID, m.IP, m.Port)
	case RegisterRetMsg:
		w.key("extra_config")
		w.b = append(w.b, '{')
		for i, p := range m.ExtraConfig {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.str(p.Key)
			w.b = append(w.b, ':')
			w.str(p.Value)
		}
		w.b = append(w.b, '}')
	case HeartbeatRetMsg:
		w.key("commands")
		w.b = append(w.b, '[')
		for i, c := range m.Commands {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, `{"command_type":`...)
			w.str(c.CommandType)
			w.key("reason")
			w.optStr(c.Reason)
			w.key("args")
			if c.Args == nil {
				w.b = append(w.b, "null"...)
			} else {
				w.b = append(w.b, '{')
				for j, e := range *c.Args {
					if j > 0 {
						w.b = append(w.b, ',')
					}
					w.str(e.Key)
					w.b = append(w.b, ':')
					w.value(e.Value)
				}
				w.b = append(w.b, '}')
			}
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	case BatchedKVOperationMsg:
		w.key("instance_id")
		w.str(m.InstanceID)
		w.key("worker_id")
		w.int(m.WorkerID)
		w.key("location")
		w.str(m.Location)
		w.key("operations")
		w.b = append(w.b, '[')
		for i, op := range m.Operations {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, `{"op_type":`...)
			w.str(op.OpType.String())
			w.key("key")
			w.b, _ = op.Key.AppendText(w.b)
			w.key("seq_num")
			w.int(op.SeqNum)
			w.b = append(w.b, '}')
		}
		w.b = append(w.b, ']')
	case BatchedP2PLookupMsg:
		w.key("hashes")
		w.ints(m.Hashes)
		w.key("instance_id")
		w.str(m.InstanceID)
		w.key("worker_id")
		w.int(m.WorkerID)
	case BatchedP2PLookupRetMsg:
		w.key("layout_info")
		w.b = append(w.b, '[')
		for i, l := range m.LayoutInfo {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, '[')
			w.str(l.InstanceID)
			w.b = append(w.b, ',')
			w.str(l.Location)
			w.b = append(w.b, ',')
			w.b = strconv.AppendInt(w.b, l.NumHitChunks, 10)
			w.b = append(w.b, ',')
			w.str(l.PeerInitURL)
			w.b = append(w.b, ']')
		}
		w.b = append(w.b, ']')
	case ErrorMsg:
		w.key("error")
		w.str(m.Error)
	case KVAdmitMsg:
		w.kvOp(m.InstanceID, m.WorkerID, m.Key, m.Location, m.SeqNum)
	case KVEvictMsg:
		w.kvOp(m.InstanceID, m.WorkerID, m.Key, m.Location, m.SeqNum)
	case FullSyncStartMsg:
		w.iil(m.InstanceID, m.WorkerID, m.Location)
		w.key("sync_id")
		w.str(m.SyncID)
		w.key("total_keys")
		w.int(m.TotalKeys)
		w.key("batch_count")
		w.int(m.BatchCount)
	case FullSyncStartRetMsg:
		w.key("sync_id")
		w.str(m.SyncID)
		w.key("accepted")
		w.bool(m.Accepted)
		w.key("error_msg")
		w.optStr(m.ErrorMsg)
	case FullSyncBatchMsg:
		w.iil(m.InstanceID, m.WorkerID, m.Location)
		w.key("sync_id")
		w.str(m.SyncID)
		w.key("batch_id")
		w.int(m.BatchID)
		w.key("keys")
		w.ints(m.Keys)
	case FullSyncEndMsg:
		w.iil(m.InstanceID, m.WorkerID, m.Location)
		w.key("sync_id")
		w.str(m.SyncID)
		w.key("actual_total_keys")
		w.int(m.ActualTotalKeys)
	case FullSyncStatusMsg:
		w.key("instance_id")
		w.str(m.InstanceID)
		w.key("worker_id")
		w.int(m.WorkerID)
		w.key("sync_id")
		w.str(m.SyncID)
	case FullSyncStatusRetMsg:
		w.key("sync_id")
		w.str(m.SyncID)
		w.key("is_complete")
		w.bool(m.IsComplete)
		w.key("global_progress")
		w.float(m.GlobalProgress)
		w.key("can_exit_freeze")
		w.bool(m.CanExitFreeze)
		w.key("missing_batches")
		w.b = append(w.b, '[')
		for i, b := range m.MissingBatches {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.int(b)
		}
		w.b = append(w.b, ']')
	case GenericMsg:
		for _, fl := range m.Fields {
			w.key(fl.Name)
			w.value(fl.Value)
		}
	default:
		return nil, errors.New("wire: ToJSON: unsupported message type " + m.TypeName())
	}
	w.b = append(w.b, '}')
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// deref turns *T into T for the switch in ToJSON.
func deref(m Msg) Msg {
	switch p := m.(type) {
	case *RegisterMsg:
		return *p
	case *HeartbeatMsg:
		return *p
	case *DeRegisterMsg:
		return *p
	case *RegisterRetMsg:
		return *p
	case *HeartbeatRetMsg:
		return *p
	case *BatchedKVOperationMsg:
		return *p
	case *BatchedP2PLookupMsg:
		return *p
	case *BatchedP2PLookupRetMsg:
		return *p
	case *ErrorMsg:
		return *p
	case *KVAdmitMsg:
		return *p
	case *KVEvictMsg:
		return *p
	case *FullSyncStartMsg:
		return *p
	case *FullSyncStartRetMsg:
		return *p
	case *FullSyncBatchMsg:
		return *p
	case *FullSyncEndMsg:
		return *p
	case *FullSyncStatusMsg:
		return *p
	case *FullSyncStatusRetMsg:
		return *p
	case *GenericMsg:
		return *p
	}
	return m
}

type jsonWriter struct {
	b   []byte
	err error
}

func (w *jsonWriter) key(k string) {
	w.b = append(w.b, ',')
	w.str(k)
	w.b = append(w.b, ':')
}

func (w *jsonWriter) int(v int64) { w.b = strconv.AppendInt(w.b, v, 10) }

func (w *jsonWriter) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

func (w *jsonWriter) ints(v []Int) {
	w.b = append(w.b, '[')
	for i, x := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b, _ = x.AppendText(w.b)
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) addr(inst string, wid int64, ip string, port int64) {
	w.key("instance_id")
	w.str(inst)
	w.key("worker_id")
	w.int(wid)
	w.key("ip")
	w.str(ip)
	w.key("port")
	w.int(port)
}

func (w *jsonWriter) iil(inst string, wid int64, loc string) {
	w.key("instance_id")
	w.str(inst)
	w.key("worker_id")
	w.int(wid)
	w.key("location")
	w.str(loc)
}

func (w *jsonWriter) kvOp(inst string, wid int64, key Int, loc string, seq int64) {
	w.key("instance_id")
	w.str(inst)
	w.key("worker_id")
	w.int(wid)
	w.key("key")
	w.b, _ = key.AppendText(w.b)
	w.key("location")
	w.str(loc)
	w.key("seq_num")
	w.int(seq)
}

func (w *jsonWriter) optStr(s *string) {
	if s == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.str(*s)
}

// float writes a float so that it reads back as a float (msgspec's JSON
// writes NaN and infinities as null).
func (w *jsonWriter) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.b = append(w.b, "null"...)
		return
	}
	start := len(w.b)
	w.b = strconv.AppendFloat(w.b, f, 'g', -1, 64)
	if !strings.ContainsAny(string(w.b[start:]), ".eEn") {
		w.b = append(w.b, ".0"...)
	}
}

const hexDigits = "0123456789abcdef"

func (w *jsonWriter) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.b = append(w.b, '\\', c)
		case c == '\n':
			w.b = append(w.b, '\\', 'n')
		case c == '\r':
			w.b = append(w.b, '\\', 'r')
		case c == '\t':
			w.b = append(w.b, '\\', 't')
		case c == '\b':
			w.b = append(w.b, '\\', 'b')
		case c == '\f':
			w.b = append(w.b, '\\', 'f')
		case c < 0x20 || c == 0x7f:
			w.b = append(w.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '"')
}

func (w *jsonWriter) value(v Value) {
	switch v.Kind {
	case KindNil:
		w.b = append(w.b, "null"...)
	case KindBool:
		w.bool(v.Bool)
	case KindInt:
		w.b, _ = v.Int.AppendText(w.b)
	case KindFloat:
		w.float(v.Float)
	case KindStr:
		w.str(v.Str)
	case KindBin:
		w.str(base64.StdEncoding.EncodeToString(v.Bin))
	case KindArray:
		w.b = append(w.b, '[')
		for i := range v.Array {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.value(v.Array[i])
		}
		w.b = append(w.b, ']')
	case KindMap:
		w.b = append(w.b, '{')
		for i, e := range v.Map {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			switch e.Key.Kind {
			case KindStr:
				w.str(e.Key.Str)
			case KindInt:
				w.str(e.Key.Int.String())
			default:
				if w.err == nil {
					w.err = errors.New("wire: ToJSON: dict key of kind " + e.Key.Kind.String() + " has no JSON form")
				}
				w.str("")
			}
			w.b = append(w.b, ':')
			w.value(e.Value)
		}
		w.b = append(w.b, '}')
	case KindExt:
		if v.Ext == -1 {
			w.str(rfc3339(v.Bin))
			return
		}
		if w.err == nil {
			w.err = errors.New("wire: ToJSON: Ext values have no JSON form")
		}
		w.b = append(w.b, "null"...)
	}
}
