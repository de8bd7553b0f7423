package main

// Flag value types that kong decodes while it parses the command line, so
// that a bad value is exit 2 before any command runs.

import (
	"fmt"
	"strconv"
	"time"

	"github.com/alecthomas/kong"
)

// seconds is a positive duration flag: "60" is seconds (fractions allowed),
// anything else a Go duration such as "1m30s". Without a default, 0 means
// the flag was not given.
type seconds time.Duration

// Decode implements kong.MapperValue.
func (s *seconds) Decode(ctx *kong.DecodeContext) error {
	flag, v, err := flagValue(ctx)
	if err != nil {
		return err
	}
	d, err := parseSeconds(flag, v)
	if err != nil {
		return &flagError{err.Error()}
	}
	*s = seconds(d)
	return nil
}

// secondsOrZero is a duration flag as seconds, where zero in any form
// ("0", "0s", "0.0") is allowed too and means the flag's "no limit" or
// "not timed" value.
type secondsOrZero time.Duration

// Decode implements kong.MapperValue.
func (s *secondsOrZero) Decode(ctx *kong.DecodeContext) error {
	flag, v, err := flagValue(ctx)
	if err != nil {
		return err
	}
	if isZeroDuration(v) {
		*s = 0
		return nil
	}
	d, err := parseSeconds(flag, v)
	if err != nil {
		return &flagError{err.Error()}
	}
	*s = secondsOrZero(d)
	return nil
}

// flagError is a flag value's error whose text already names the flag;
// main prints it as it is, without kong's "--flag:" prefix.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// flagValue pops the value being decoded and names its flag ("--name").
func flagValue(ctx *kong.DecodeContext) (flag, value string, err error) {
	t, err := ctx.Scan.PopValue("duration")
	if err != nil {
		return "", "", err
	}
	return "--" + ctx.Value.Name, fmt.Sprint(t.Value), nil
}

// parseSeconds reads "60" as seconds, or a Go duration such as "1m30s";
// either must be positive.
func parseSeconds(flag, s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("%s must be positive", flag)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration", flag, s)
	}
	return d, nil
}

// isZeroDuration reports whether a duration value means zero ("0", "0s",
// "0.0", ...).
func isZeroDuration(v string) bool {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f == 0
	}
	d, err := time.ParseDuration(v)
	return err == nil && d == 0
}
