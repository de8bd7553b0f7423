package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/lmfast/lmfast/stream"
)

// version is set at link time by the Makefile.
var version = "dev"

// cli is the whole command line. Each subcommand type is defined in the file
// named after it.
type cli struct {
	Controller       controllerCmd       `cmd:"" help:"Load-test an LMCache cache controller over ZMQ."`
	ControllerServer controllerServerCmd `cmd:"" name:"controller-server" help:"Run the reference LMCache controller (PULL, ROUTER reply, ROUTER heartbeat)."`
	L2               l2Cmd               `cmd:"" name:"l2" help:"Benchmark an L2 storage adapter (LMCache fs layout): store, lookup, load."`
	Calibrate        calibrateCmd        `cmd:"" help:"Measure this machine's raw ZMQ ceiling that the engine can never beat."`
	Sink             sinkCmd             `cmd:"" help:"Count what arrives on a PULL socket (what a generator really delivers)."`
	Report           reportCmd           `cmd:"" help:"Merge lmfast JSONL files exactly and print them as text, json, md, csv or an HdrHistogram log."`
	Compare          compareCmd          `cmd:"" help:"Compare two sets of runs op by op with significance tests (CI regression checks): text, md or json; exit 99 on a regression."`
	Plot             plotCmd             `cmd:"" help:"Draw lmfast JSONL files: throughput, latency over time, percentile spectrum, sweeps, L2 rounds (svg, png, html)."`
	Wire             wireCmd             `cmd:"" help:"Encode and decode LMCache controller messages (msgpack <-> JSON)."`
	Version          versionCmd          `cmd:"" help:"Print the version."`
	BenchReport      benchReportCmd      `cmd:"" name:"bench-report" hidden:"" help:"Render make bench's reports from the rows its scripts record."`
}

// app is what every subcommand's Run receives: where to write and a context
// that is cancelled on the first SIGINT or SIGTERM (a second one ends the
// process at once, see watchSignals).
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type versionCmd struct{}

func (versionCmd) Run(a *app) error {
	_, err := fmt.Fprintf(a.stdout, "lmfast %s\n", version)
	return err
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args, runs the chosen subcommand and maps its error to an exit
// code (see exit.go). It never lets a panic trace reach the user.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	exited := false
	parser, err := kong.New(&c,
		kong.Name("lmfast"),
		kong.Description("Fast, truthful load tests for LMCache's cache controller and L2 storage."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) { exited = true }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		floatFlags(),
	)
	if err != nil {
		fmt.Fprintf(stderr, "lmfast: internal error: %v\n", err)
		return ExitFailure
	}
	kctx, err := parser.Parse(args)
	if exited { // --help or --version style early exit
		return ExitOK
	}
	if err != nil {
		var fe *flagError
		if errors.As(err, &fe) {
			err = fe // its text names the flag already
		}
		fmt.Fprintf(stderr, "lmfast: %s\n", oneLine(err.Error()))
		return ExitBadInput
	}

	ctx, stop := watchSignals()
	defer stop()
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}

	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "lmfast: internal error: %v (please report this)\n", r)
			code = ExitFailure
		}
	}()
	err = kctx.Run(a)
	code = exitCode(err)
	if err != nil && !errors.Is(err, errInterrupted) && !errors.Is(err, errStopped) {
		fmt.Fprintf(stderr, "lmfast: %s\n", oneLine(err.Error()))
	}
	if code == ExitOK && ctx.Err() != nil && !errors.Is(err, errStopped) {
		code = ExitInterrupted
	}
	return code
}

// exitNow ends the process on a second SIGINT or SIGTERM.
var exitNow = os.Exit

// watchSignals returns a context cancelled on the first SIGINT or SIGTERM.
// A second one ends the process at once with exit 130, once no JSONL line
// is half written (stream.Halt). SIGPIPE is caught too: a write to a
// closed stdout then fails with EPIPE, which the command reports (exit
// 141), instead of the Go runtime killing the process silently. stop
// restores the default handling.
func watchSignals() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		seen := 0
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				if sig == syscall.SIGPIPE {
					continue // the write that raised it returns EPIPE
				}
				if seen++; seen == 1 {
					cancel()
					continue
				}
				stream.Halt(200 * time.Millisecond)
				exitNow(ExitInterrupted)
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
