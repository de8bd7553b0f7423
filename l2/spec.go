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
	NumWorkers     int     // fs_native only; 0 when not given
	MaxCapacityGB  float64 // fs_native only; parsed, not enforced (LMCache uses it for eviction)

	// mock
	MaxSizeGB       float64
	MockBandwidthGB float64
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
		ferr = checkCommon(d)
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
	s.UseODirect, err = useODirect(d)
	return err
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
	if v, present := d["max_capacity_gb"]; present {
		f, ok := pyNumber(v)
		if !ok || f < 0 {
			return errors.New("max_capacity_gb must be a non-negative number")
		}
		s.MaxCapacityGB = f
	}
	return nil
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

// checkCommon validates the keys every adapter type accepts (eviction,
// persist_enabled, serde) as LMCache's L2AdapterConfigBase parsers do. The
// benchmark does not apply them.
func checkCommon(d map[string]any) error {
	if ev := d["eviction"]; ev != nil {
		m, ok := ev.(map[string]any)
		if !ok {
			return fmt.Errorf("'eviction' must be a dict, got %s", pyType(ev))
		}
		p, _ := m["eviction_policy"].(string)
		if p != "LRU" && p != "IsolatedLRU" && p != "noop" {
			return fmt.Errorf("eviction.eviction_policy must be 'LRU', 'IsolatedLRU', or 'noop', got %s", pyRepr(m["eviction_policy"]))
		}
		for _, k := range []string{"trigger_watermark", "eviction_ratio"} {
			if v, present := m[k]; present {
				if err := pyFloatConvertible(v); err != nil {
					return err
				}
			}
		}
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

// pyFloatConvertible mirrors float(v)'s errors.
func pyFloatConvertible(v any) error {
	switch x := v.(type) {
	case bool, json.Number:
		return nil
	case string:
		if _, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return nil
		}
		return fmt.Errorf("could not convert string to float: %s", pyRepr(x))
	}
	return fmt.Errorf("float() argument must be a string or a real number, not '%s'", pyType(v))
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
