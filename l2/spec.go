package l2

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/lmfast/lmfast/internal/pyfmt"
)

// Spec is one parsed --l2-adapter JSON: the fields of LMCache's fs,
// fs_native or mock adapter config, with LMCache's defaults.
type Spec struct {
	Raw  string // the JSON text as given
	Type string // "fs", "fs_native" or "mock"

	// fs and fs_native
	BasePath       string
	RelativeTmpDir string // "" = unset: temp files are <name>.tmp beside the final file
	ReadAheadSize  int64  // 0 = unset
	UseODirect     bool
	NumWorkers     int // fs_native only; 0 when not given
	// MaxCapacityGB is the declared capacity in GiB (0: none). It bounds
	// the files only with an eviction block; without one it only accounts
	// their bytes (see capacity.go).
	MaxCapacityGB float64
	// RecoverOnStart: at start, count the files already in base_path
	// toward the capacity (and make them evictable). Default true.
	RecoverOnStart bool
	capacityText   string // max_capacity_gb as Python prints it, for the warning

	// Eviction is the "eviction" block every adapter type accepts; its
	// Policy is "" when there is none.
	Eviction Eviction

	// mock
	MaxSizeGB       float64
	MockBandwidthGB float64
}

// Eviction is an adapter's "eviction" block as LMCache's
// L2AdapterConfigBase._parse_eviction_config reads it.
type Eviction struct {
	Policy           string  // "LRU", "IsolatedLRU" or "noop"; "" = no block
	TriggerWatermark float64 // usage fraction at which eviction runs (default 0.8)
	EvictionRatio    float64 // fraction of the tracked keys one eviction removes (default 0.2)
}

// LMCache's eviction defaults (l2_adapters/config.py).
const (
	DefaultTriggerWatermark = 0.8
	DefaultEvictionRatio    = 0.2
)

// Warnings are the one-line warnings LMCache logs while parsing the spec:
// a capacity declared without an eviction block bounds nothing (LMCache
// issue #4725, warned since PR #4787 for fs_native; the fs adapter has the
// same rule and lmfast warns for it too), and an fs capacity that rounds
// down to 0 bytes disables accounting (fs_l2_adapter.py).
func (s Spec) Warnings() []string {
	if s.Type != "fs" && s.Type != "fs_native" {
		return nil
	}
	var w []string
	if s.Type == "fs" && s.MaxCapacityGB > 0 && s.CapacityBytes() == 0 {
		w = append(w, fmt.Sprintf("FSL2Adapter max_capacity_gb=%s rounds down to 0 bytes; eviction stays disabled. Use a larger capacity.", s.capacityText))
	}
	if s.MaxCapacityGB > 0 && s.Eviction.Policy == "" {
		w = append(w, fmt.Sprintf("%s: max_capacity_gb=%s is declared for %s but no 'eviction' block is configured, "+
			"so it is used for usage accounting only and will NOT bound disk usage. Add an eviction block to enforce it, "+
			`e.g. "eviction": {"eviction_policy": "LRU"}.`, s.Type, s.capacityText, lineSafe.Replace(s.BasePath)))
	}
	return w
}

// lineSafe keeps a path on one line in a warning.
var lineSafe = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// CapacityBytes is max_capacity_gb in bytes, int(gb × 2^30) as LMCache
// computes it; 0 means no capacity.
func (s Spec) CapacityBytes() int64 {
	b := s.MaxCapacityGB * (1 << 30)
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}

// SupportedTypes are the adapter types lmfast runs, sorted.
var SupportedTypes = []string{"fs", "fs_native", "mock"}

// ClassName is the LMCache class that implements the spec's type, as its
// "[Init] Adapter created successfully (...)" line names it.
func (s Spec) ClassName() string {
	switch s.Type {
	case "fs":
		return "FSL2Adapter"
	case "fs_native":
		return "NativeConnectorL2Adapter"
	default:
		return "MockL2Adapter"
	}
}

// ParseSpecs parses every --l2-adapter JSON as LMCache's
// parse_args_to_l2_adapters_config does, with its error texts
// ("Invalid JSON for --l2-adapter #1: ...", "--l2-adapter #2 ('fs'):
// base_path must be a non-empty string", ...). Spec numbers count from 1.
func ParseSpecs(raws []string) ([]Spec, error) {
	out := make([]Spec, 0, len(raws))
	for i, raw := range raws {
		s, err := parseSpec(i+1, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSpec(n int, raw string) (Spec, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return Spec{}, fmt.Errorf("Invalid JSON for --l2-adapter #%d: %v", n, err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return Spec{}, fmt.Errorf("--l2-adapter #%d: expected a JSON object, got %s", n, pyType(v))
	}
	t, present := d["type"]
	if !present || t == nil {
		return Spec{}, fmt.Errorf("--l2-adapter #%d: missing 'type' field", n)
	}
	ts, _ := t.(string)
	if !isSupported(ts) {
		return Spec{}, fmt.Errorf("--l2-adapter #%d: unknown adapter type %s. Known: %s", n, pyRepr(t), strings.Join(SupportedTypes, ", "))
	}
	s := Spec{Raw: raw, Type: ts}
	var ferr error
	switch ts {
	case "fs":
		ferr = s.fromFS(d)
	case "fs_native":
		ferr = s.fromFSNative(d)
	case "mock":
		ferr = s.fromMock(d)
	}
	if ferr == nil {
		ferr = s.checkCommon(d)
	}
	if ferr != nil {
		return Spec{}, fmt.Errorf("--l2-adapter #%d (%s): %v", n, pyRepr(ts), ferr)
	}
	return s, nil
}

func isSupported(t string) bool {
	i := sort.SearchStrings(SupportedTypes, t)
	return i < len(SupportedTypes) && SupportedTypes[i] == t
}

// The fields of fs and fs_native, each checked as LMCache checks it.

func basePath(d map[string]any) (string, error) {
	bp, ok := d["base_path"].(string)
	if !ok || bp == "" {
		return "", errors.New("base_path must be a non-empty string")
	}
	return bp, nil
}

// tmpDir reads relative_tmp_dir; fs (nullOK) takes null as unset, fs_native
// rejects it.
func tmpDir(d map[string]any, nullOK bool) (string, error) {
	v, present := d["relative_tmp_dir"]
	if !present || (v == nil && nullOK) {
		return "", nil
	}
	r, ok := v.(string)
	if !ok {
		return "", errors.New("relative_tmp_dir must be a string")
	}
	return r, nil
}

func readAhead(d map[string]any) (int64, error) {
	v := d["read_ahead_size"]
	if v == nil {
		return 0, nil
	}
	n, ok := pyInt(v)
	if !ok || n <= 0 {
		return 0, errors.New("read_ahead_size must be a positive integer")
	}
	return n, nil
}

func useODirect(d map[string]any) (bool, error) {
	v, present := d["use_odirect"]
	if !present {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, errors.New("use_odirect must be a boolean")
	}
	return b, nil
}

// maxCapacity reads max_capacity_gb: isinstance(v, (int, float)) and ≥ 0,
// default 0.
func (s *Spec) maxCapacity(d map[string]any) error {
	v, present := d["max_capacity_gb"]
	if !present {
		return nil
	}
	f, ok := pyNumber(v)
	if !ok || f < 0 {
		return errors.New("max_capacity_gb must be a non-negative number")
	}
	s.MaxCapacityGB, s.capacityText = f, pyRepr(v)
	return nil
}

// recoverOnStart reads recover_on_start: a boolean, default true.
func (s *Spec) recoverOnStart(d map[string]any) error {
	s.RecoverOnStart = true
	v, present := d["recover_on_start"]
	if !present {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		return errors.New("recover_on_start must be a boolean")
	}
	s.RecoverOnStart = b
	return nil
}

// fromFS reads fs_l2_adapter.py's fields in its order.
func (s *Spec) fromFS(d map[string]any) (err error) {
	if s.BasePath, err = basePath(d); err != nil {
		return err
	}
	if s.RelativeTmpDir, err = tmpDir(d, true); err != nil {
		return err
	}
	if s.ReadAheadSize, err = readAhead(d); err != nil {
		return err
	}
	if s.UseODirect, err = useODirect(d); err != nil {
		return err
	}
	if err = s.maxCapacity(d); err != nil {
		return err
	}
	return s.recoverOnStart(d)
}

// fromFSNative reads fs_native_l2_adapter.py's fields in its order.
func (s *Spec) fromFSNative(d map[string]any) (err error) {
	if s.BasePath, err = basePath(d); err != nil {
		return err
	}
	if v, present := d["num_workers"]; present {
		n, ok := pyInt(v)
		if !ok || n <= 0 {
			return errors.New("num_workers must be a positive integer")
		}
		s.NumWorkers = int(min(n, 1<<16))
	}
	if s.RelativeTmpDir, err = tmpDir(d, false); err != nil {
		return err
	}
	if s.UseODirect, err = useODirect(d); err != nil {
		return err
	}
	if s.ReadAheadSize, err = readAhead(d); err != nil {
		return err
	}
	if err = s.maxCapacity(d); err != nil {
		return err
	}
	return s.recoverOnStart(d)
}

func (s *Spec) fromMock(d map[string]any) error {
	f, ok := pyNumber(d["max_size_gb"])
	if !ok || f <= 0 {
		return errors.New("max_size_gb must be a positive number")
	}
	s.MaxSizeGB = f
	f, ok = pyNumber(d["mock_bandwidth_gb"])
	if !ok || f <= 0 {
		return errors.New("mock_bandwidth_gb must be a positive number")
	}
	s.MockBandwidthGB = f
	return nil
}

// checkCommon reads the keys every adapter type accepts (eviction,
// persist_enabled, serde) as LMCache's L2AdapterConfigBase parsers do. The
// fs adapters apply the eviction block (capacity.go); serde and
// persist_enabled are only validated.
func (s *Spec) checkCommon(d map[string]any) error {
	if ev := d["eviction"]; ev != nil {
		m, ok := ev.(map[string]any)
		if !ok {
			return fmt.Errorf("'eviction' must be a dict, got %s", pyType(ev))
		}
		p, _ := m["eviction_policy"].(string)
		if p != "LRU" && p != "IsolatedLRU" && p != "noop" {
			return fmt.Errorf("eviction.eviction_policy must be 'LRU', 'IsolatedLRU', or 'noop', got %s", pyRepr(m["eviction_policy"]))
		}
		e := Eviction{Policy: p, TriggerWatermark: DefaultTriggerWatermark, EvictionRatio: DefaultEvictionRatio}
		for _, f := range []struct {
			key string
			dst *float64
		}{{"trigger_watermark", &e.TriggerWatermark}, {"eviction_ratio", &e.EvictionRatio}} {
			k, dst := f.key, f.dst
			if v, present := m[k]; present {
				f, err := pyFloat(v)
				if err != nil {
					return err
				}
				*dst = f
			}
		}
		s.Eviction = e
	}
	if sd := d["serde"]; sd != nil {
		m, ok := sd.(map[string]any)
		if !ok {
			return fmt.Errorf("'serde' must be a dict, got %s", pyType(sd))
		}
		if _, ok := m["type"].(string); !ok {
			return errors.New("'serde' dict must include a 'type' field")
		}
	}
	return nil
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number so that
// ints and floats stay apart as they do in Python.
func decodeJSON(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			return nil, errors.New("Expecting value: line 1 column 1 (char 0)")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		return nil, fmt.Errorf("Extra data: char %d", off)
	}
	return v, nil
}

// isFloatLiteral reports whether a JSON number is a float in Python.
func isFloatLiteral(n json.Number) bool { return strings.ContainsAny(string(n), ".eE") }

// pyInt accepts what Python's isinstance(v, int) accepts: integer literals
// and booleans (True is 1).
func pyInt(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		return boolInt(x), true
	case json.Number:
		if isFloatLiteral(x) {
			return 0, false
		}
		n, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil { // beyond int64: Python still has an int
			if strings.HasPrefix(string(x), "-") {
				return math.MinInt64, true
			}
			return math.MaxInt64, true
		}
		return n, true
	}
	return 0, false
}

// boolInt is int(b) in Python: True is 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// pyNumber accepts what isinstance(v, (int, float)) accepts.
func pyNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		return float64(boolInt(x)), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// pyFloat is Python's float(v) after json.loads, with its errors.
func pyFloat(v any) (float64, error) {
	switch x := v.(type) {
	case bool:
		return float64(boolInt(x)), nil
	case json.Number:
		f, _ := pyNumber(x)
		return f, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return f, nil
		}
		return 0, fmt.Errorf("could not convert string to float: %s", pyRepr(x))
	}
	return 0, fmt.Errorf("float() argument must be a string or a real number, not '%s'", pyType(v))
}

// pyType names v's Python type after json.loads.
func pyType(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case json.Number:
		if isFloatLiteral(x) {
			return "float"
		}
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

// pyRepr renders v as Python's repr() would after json.loads.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyfmt.Repr(x)
	case json.Number:
		if isFloatLiteral(x) {
			f, _ := strconv.ParseFloat(string(x), 64)
			return pyfmt.Float(f)
		}
		return string(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Python keeps insertion order; Go maps have none
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyfmt.Repr(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
