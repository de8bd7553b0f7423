package main

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Exit codes shared by every subcommand (documented in the README).
const (
	ExitOK          = 0   // everything asked for ran and every check passed
	ExitFailure     = 1   // the run failed: failed keys, verification mismatch, adapter error, internal error
	ExitBadInput    = 2   // bad flags or input, or the target cannot be reached
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM after flushing what was measured
	ExitBrokenPipe  = 141 // the JSONL's reader went away (EPIPE): stopped as on SIGINT, as a pipeline expects of a tool killed by SIGPIPE
	ExitThresholds  = 99  // the run completed and passed its checks, but a --fail-if term was violated; or compare found a significant regression
)

// Precedence when several apply: 2 (nothing could run) over 130 (the run
// was cut short) over 1 (a check failed) over 99 (a threshold was
// crossed): a threshold is judged only on a complete, checked run.

// exitError carries an exit code with its one-line message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// badInput reports bad flags or input: exit 2.
func badInput(format string, args ...any) error {
	return &exitError{code: ExitBadInput, msg: fmt.Sprintf(format, args...)}
}

// failed reports a run that completed but did not pass: exit 1.
func failed(format string, args ...any) error {
	return &exitError{code: ExitFailure, msg: fmt.Sprintf(format, args...)}
}

// thresholdsViolated reports a --fail-if term that did not hold, or a
// significant regression `lmfast compare` found: exit 99.
func thresholdsViolated(format string, args ...any) error {
	return &exitError{code: ExitThresholds, msg: fmt.Sprintf(format, args...)}
}

// errInterrupted is returned by a Run that stopped on SIGINT/SIGTERM after
// writing its summary; it maps to exit 130 and prints nothing more.
var errInterrupted = errors.New("interrupted")

// errStopped is returned by a Run for which a signal is the normal end (a
// server): it maps to exit 0 and prints nothing.
var errStopped = errors.New("stopped on request")

// outputError is the exit of a run whose JSONL output failed: exit 141
// when the reader of the pipe went away (EPIPE), exit 1 for any other write
// error (a full disk). where names the output; what says what became of
// the run.
func outputError(err error, where, what string) error {
	if errors.Is(err, syscall.EPIPE) {
		return &exitError{code: ExitBrokenPipe, msg: fmt.Sprintf("%s closed (broken pipe): %s", where, what)}
	}
	return failed("writing the JSONL stream to %s: %v: %s", where, err, what)
}

// outputName names the JSONL output for messages: the --out file, else
// stdout.
func outputName(path string) string {
	if path == "" {
		return "stdout"
	}
	return path
}

func exitCode(err error) int {
	if err == nil || errors.Is(err, errStopped) {
		return ExitOK
	}
	if errors.Is(err, errInterrupted) {
		return ExitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitFailure
}

// oneLine folds a possibly multi-line message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
