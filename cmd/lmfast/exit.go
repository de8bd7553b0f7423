package main

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes shared by every subcommand (documented in the README).
const (
	ExitOK          = 0   // everything asked for ran and every check passed
	ExitFailure     = 1   // the run failed: failed keys, verification mismatch, adapter error, internal error
	ExitBadInput    = 2   // bad flags or input, or the target cannot be reached
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM after flushing what was measured
)

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

// errInterrupted is returned by a Run that stopped on SIGINT/SIGTERM after
// writing its summary; it maps to exit 130 and prints nothing more.
var errInterrupted = errors.New("interrupted")

// errStopped is returned by a Run for which a signal is the normal end (a
// server): it maps to exit 0 and prints nothing.
var errStopped = errors.New("stopped on request")

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
