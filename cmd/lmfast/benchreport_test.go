package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchReportL2: `lmfast bench-report l2` reads a bench-l2 JSONL: best-engine
// prints the fio engine with the highest median at a point (nothing where
// none ran), render writes the report with the given label and machine
// paragraph to stdout; a missing JSONL is one line and exit 2.
func TestBenchReportL2(t *testing.T) {
	jsonl := filepath.Join(t.TempDir(), "l2-x.jsonl")
	p := `"payload_kb":256,"qd":8,"direct":1,"rep":1,`
	os.WriteFile(jsonl, []byte(`{"settings":{"hugepages":1,"reps":1,"mib":64}}`+"\n"+
		`{"tool":"fio","engine":"psync","op":"load",`+p+`"value":100}`+"\n"+
		`{"tool":"fio","engine":"io_uring","op":"load",`+p+`"value":300}`+"\n"+
		`{"tool":"lmfast","engine":"psync-thread","op":"load",`+p+`"value":290}`+"\n"), 0o644)
	var out, errb strings.Builder
	if code := run([]string{"bench-report", "l2", "best-engine", jsonl, "load", "256", "8", "1"}, strings.NewReader(""), &out, &errb); code != ExitOK || out.String() != "io_uring\n" {
		t.Fatalf("best-engine: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"bench-report", "l2", "best-engine", jsonl, "load", "1024", "8", "1"}, strings.NewReader(""), &out, &errb); code != ExitOK || out.String() != "" {
		t.Fatalf("best-engine where nothing ran: exit %d, stdout %q", code, out.String())
	}
	out.Reset()
	code := run([]string{"bench-report", "l2", "render", jsonl, "--date", "x", "--machine", "Machine: test box,\nsecond line."}, strings.NewReader(""), &out, &errb)
	if code != ExitOK || !strings.HasPrefix(out.String(), "# lmfast l2 vs fio (x)\n\nMachine: test box,\nsecond line.\n\n") ||
		!strings.Contains(out.String(), "| cold load | 256 KiB | 8 | 1 | n/a | 290 | 100 | 300 | n/a | io_uring | n/a | 0.967 | yes |\n") {
		t.Fatalf("render: exit %d, stderr %q, stdout:\n%s", code, errb.String(), out.String())
	}
	errb.Reset()
	code = run([]string{"bench-report", "l2", "render", filepath.Join(t.TempDir(), "none.jsonl"), "--date", "x", "--machine", "m"}, strings.NewReader(""), &out, &errb)
	if code != ExitBadInput || !strings.HasPrefix(errb.String(), "lmfast: open ") || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("missing JSONL: exit %d, stderr %q", code, errb.String())
	}
}
