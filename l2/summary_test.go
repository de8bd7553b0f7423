package l2

import (
	"encoding/json"
	"strings"
	"testing"
)

// pyDumpsCases are strings and what Python's json.dumps (ensure_ascii=True,
// LMCache's JsonFormatter) writes for them; each want was produced by
// CPython 3 from the same bytes, decoded as Python decodes argv and the
// environment (UTF-8, surrogateescape: an undecodable byte b becomes the
// lone surrogate U+DC00+b).
var pyDumpsCases = []struct {
	name, in, want string
}{
	{"ascii", "plain /tmp/x", `"plain /tmp/x"`},
	{"del", "a\x7fb", `"a\u007fb"`},
	{"tilde and space", "~ ", `"~ "`},
	{"controls", "\x00\x01\x1f\b\f\n\r\t", `"\u0000\u0001\u001f\b\f\n\r\t"`},
	{"quote backslash slash", `"\/`, `"\"\\/"`},
	{"latin", "é", `"\u00e9"`},
	{"c1 control", "\u0085", `"\u0085"`},
	{"line separator", "\u2028", `"\u2028"`},
	{"bmp top", "\uffff", `"\uffff"`},
	{"replacement char", "\ufffd", `"\ufffd"`},
	{"astral", "😀", `"\ud83d\ude00"`},
	{"max rune", "\U0010ffff", `"\udbff\udfff"`},
	{"invalid byte", "a\xffb", `"a\udcffb"`},
	{"truncated sequence", "\xe2\x82\"", `"\udce2\udc82\""`},
	{"encoded surrogate", "\xed\xa0\x80", `"\udced\udca0\udc80"`},
	{"above max rune", "\xf4\x90\x80\x80", `"\udcf4\udc90\udc80\udc80"`},
	{"overlong", "\xc0\xaf", `"\udcc0\udcaf"`},
}

// TestPyJSONStringIsPythons: strings in the JSON summary are byte for byte
// what Python's json.dumps writes: everything outside ' '..'~' escaped,
// DEL included, and an undecodable byte as \udcXX.
func TestPyJSONStringIsPythons(t *testing.T) {
	for _, tc := range pyDumpsCases {
		t.Run(tc.name, func(t *testing.T) {
			got := pyJSONString(tc.in)
			if got != tc.want {
				t.Fatalf("pyJSONString(%q) = %s, want %s", tc.in, got, tc.want)
			}
			for i := 0; i < len(got); i++ {
				if got[i] < 0x20 || got[i] > 0x7e {
					t.Fatalf("byte %#x at %d outside printable ASCII in %q", got[i], i, got)
				}
			}
			if err := json.Unmarshal([]byte(got), new(string)); err != nil {
				t.Fatalf("%s is not valid JSON: %v", got, err)
			}
		})
	}
}

// TestRenderJSONEscapesAdapterJSON: the adapter JSON the user gave, with
// DEL and non-ASCII in its path, appears in the rendered summary exactly as
// Python writes it, and the document stays ASCII.
func TestRenderJSONEscapesAdapterJSON(t *testing.T) {
	raw := "{\"type\":\"fs\",\"base_path\":\"/tmp/caf\u00e9\x7f\U0001F600\xff\"}"
	doc := []Section{{Key: "config", Label: "Configuration", Entries: []Entry{{Key: "l2_adapter_json", Label: "L2 adapter JSON", Value: raw}}}}
	got := RenderJSON(doc)
	want := "{\n  \"title\": \"L2 Adapter Benchmark Result\",\n  \"metrics\": {\n    \"config\": {\n" +
		`      "l2_adapter_json": "{\"type\":\"fs\",\"base_path\":\"/tmp/caf\u00e9\u007f\ud83d\ude00\udcff\"}"` +
		"\n    }\n  }\n}\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if i := strings.IndexFunc(got, func(r rune) bool { return r == 0x7f || r > 0x7e }); i >= 0 {
		t.Fatalf("non-ASCII or DEL at byte %d", i)
	}
}
