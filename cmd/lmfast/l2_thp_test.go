package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmfast/lmfast/hugepage"
)

// TestL2THPDefault: `lmfast l2` asks for transparent huge page buffers by
// default (config line "thp": true; the LMCache-format summary's buffers
// is not plain "4k"), and --no-thp gives the plain 4 KiB pages of earlier
// versions ("thp": false, buffers "4k").
func TestL2THPDefault(t *testing.T) {
	if _, help, _ := runL2(t, "--help"); !strings.Contains(help, "--[no-]thp") {
		t.Errorf("help lacks --[no-]thp")
	}
	for _, tc := range []struct {
		flags []string
		thp   bool
	}{{nil, true}, {[]string{"--no-thp"}, false}} {
		dir := t.TempDir()
		summary := filepath.Join(t.TempDir(), "summary.json")
		args := append([]string{"--l2-adapter", fsJSON(dir, `,"use_odirect":true`), "--num-keys", "4", "--in-flight", "2",
			"--data-size-kb", "256", "--l1-align-bytes", "4096", "-q", "--format", "json", "--output", summary}, tc.flags...)
		code, stdout, stderr := runL2(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", tc.flags, code, stderr)
		}
		cfg := events(jsonl(t, stdout), "config")
		if len(cfg) != 1 || cfg[0]["thp"] != tc.thp {
			t.Fatalf("%v: config thp %v, want %v", tc.flags, cfg[0]["thp"], tc.thp)
		}
		b, err := os.ReadFile(summary)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Metrics struct {
				Config struct {
					Buffers string `json:"buffers"`
				} `json:"config"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		got := doc.Metrics.Config.Buffers
		switch {
		case !tc.thp && got != hugepage.Pages.String():
			t.Fatalf("--no-thp: buffers %q, want 4k", got)
		case tc.thp && got == hugepage.Pages.String():
			t.Fatalf("default: buffers %q, want transparent huge pages (or the fallback named)", got)
		}
	}
}
