package l2

import (
	"strings"
	"testing"

	"github.com/lmfast/lmfast/hugepage"
)

// bufferWarnings returns the run's warning lines about its default
// (transparent huge page) buffers.
func bufferWarnings(ls []map[string]any) []string {
	var out []string
	for _, l := range ls {
		if w, ok := l["warning"].(string); ok && l["event"] == "warning" && strings.HasPrefix(w, "buffers: ") {
			out = append(out, w)
		}
	}
	return out
}

// TestDefaultBuffersAreTHP: by default (neither HugePages nor PlainPages)
// the payload buffers are advised for transparent huge pages: an O_DIRECT
// round trip verifies, and the run reports "thp" with no warning, or, when
// the kernel gave (part of) them on 4 KiB pages, says so in a "buffers: "
// warning; it never reports plain "4k" silently. PlainPages (--no-thp)
// gives the plain 4 KiB pages without a warning.
func TestDefaultBuffersAreTHP(t *testing.T) {
	for _, plain := range []bool{false, true} {
		cfg := testConfig(t, fsSpec(t.TempDir(), `,"use_odirect":true`))
		cfg.Payload, cfg.Align, cfg.Verify, cfg.PlainPages = 256<<10, 4096, true, plain
		res, ls := runCfg(t, cfg)
		if v := Judge(res); !v.OK() || res.Verify == nil || res.Verify.Mismatches != 0 {
			t.Fatalf("plain %v: verdict %+v, verify %+v", plain, v, res.Verify)
		}
		warned := bufferWarnings(ls)
		t.Logf("plain %v: buffers %v, warnings %q", plain, res.Buffers, warned)
		switch {
		case plain && (res.Buffers != hugepage.Pages || len(warned) != 0):
			t.Fatalf("PlainPages: buffers %v, warnings %q; want 4k and none", res.Buffers, warned)
		case !plain && res.Buffers == hugepage.Pages:
			t.Fatalf("default buffers on plain 4 KiB pages: not advised for transparent huge pages")
		case !plain && res.Buffers == hugepage.THP && len(warned) > 1:
			t.Fatalf("default buffers: %d warnings: %q", len(warned), warned)
		case !plain && res.Buffers != hugepage.THP && len(warned) != 1:
			t.Fatalf("default buffers %v without a warning saying so: %q", res.Buffers, warned)
		}
		if m := hugepage.THPMode(); !plain && (m == "never" || m == "") && res.Buffers == hugepage.THP {
			t.Fatalf("transparent huge pages %q, yet buffers reported thp", m)
		}
	}
}
