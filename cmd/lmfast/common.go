package main

// Helpers that more than one subcommand uses: the machine fields of config
// lines, listening lines, --pin-cpus and --out.

import (
	"fmt"
	"io"
	"os"
	"strings"

	zmq "github.com/pebbe/zmq4"
	"github.com/rs/zerolog"

	"github.com/lmfast/lmfast/internal/cpus"
	"github.com/lmfast/lmfast/stream"
)

// withMachine adds what every config line says of the machine the run is
// on: schema and lmfast version, host name, CPU model and topology, online
// CPUs and the libzmq version.
func withMachine(e *zerolog.Event) *zerolog.Event {
	hostname, _ := os.Hostname()
	info := cpus.Describe()
	return e.Str("schema", stream.Schema).Str("version", version).
		Str("host", hostname).Str("cpu", info.String()).Str("cpu_model", info.Model).Int("cpus_online", info.Online).
		Str("libzmq", libzmqVersion())
}

// listening starts a server's "listening" line, written once it is bound:
// schema and lmfast version, the bind host and the machine's host name.
func listening(out *stream.Writer, host string) *zerolog.Event {
	hostname, _ := os.Hostname()
	return out.Event("listening").Str("schema", stream.Schema).Str("version", version).Str("host", host).Str("hostname", hostname)
}

// libzmqVersion is the linked libzmq's version, e.g. "4.3.4".
func libzmqVersion() string {
	major, minor, patch := zmq.Version()
	return fmt.Sprintf("%d.%d.%d", major, minor, patch)
}

// pinList parses and checks a --pin-cpus value ("" gives nil).
func pinList(list string) ([]int, error) {
	if list == "" {
		return nil, nil
	}
	cs, err := cpus.Parse(list)
	if err != nil {
		return nil, badInput("--pin-cpus: %v", err)
	}
	if err := cpus.Validate(cs); err != nil {
		return nil, badInput("--pin-cpus: %v", err)
	}
	return cs, nil
}

// openRunOut is openOut for the load commands (controller, l2), whose
// JSONL is long and mostly base64 histograms: without --out, when stdout
// is a terminal, it goes to the file lmfast-<run>.jsonl in the working
// directory instead, named on stderr at the start and again by close, as
// k6 keeps its JSON off the terminal; the terminal gets the human report
// only. A pipe or a redirection is stdout as always. name names the output
// in messages.
func openRunOut(a *app, path, run string) (w io.Writer, name string, close func() error, err error) {
	if path != "" || !isTerminal(a.stdout) {
		w, close, err = openOut(a, path)
		return w, outputName(path), close, err
	}
	name = "lmfast-" + run + ".jsonl"
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		fmt.Fprintf(a.stderr, "lmfast: warning: stdout is a terminal and %v: the JSON lines go to the terminal (--out FILE chooses a file)\n", err)
		return a.stdout, "stdout", func() error { return nil }, nil
	}
	fmt.Fprintf(a.stderr, "lmfast: stdout is a terminal: JSON lines go to %s (--out FILE or a pipe to choose)\n", name)
	return f, name, func() error {
		err := f.Close()
		fmt.Fprintf(a.stderr, "lmfast: JSON lines written to %s (lmfast report %s; lmfast plot %s -o %s)\n",
			name, name, name, strings.TrimSuffix(name, ".jsonl")+".png")
		return err
	}, nil
}

// openOut returns where the JSONL stream goes: the file named by --out
// (created or truncated), else stdout. close flushes and closes the file.
func openOut(a *app, path string) (w io.Writer, close func() error, err error) {
	if path == "" {
		return a.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, badInput("--out: %v", err)
	}
	return f, f.Close, nil
}
