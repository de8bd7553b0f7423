package main

import (
	"io"
	"os"
)

// openOut returns where a subcommand's JSONL goes: stdout, or the file
// named by --out (created or truncated; a failure is bad input). Call
// close when the run is over.
func openOut(a *app, path string) (w io.Writer, close func(), err error) {
	if path == "" {
		return a.stdout, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, badInput("--out: %v", err)
	}
	return f, func() { f.Close() }, nil
}
