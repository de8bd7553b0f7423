package main

// Flag value types and decoders that kong applies while it parses the
// command line, so that a bad value is exit 2 before any command runs:
// durations as seconds or Go durations, and finite floats.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
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
		msg := err.Error()
		if strings.Contains(msg, "positive") { // 0 is allowed here: say so
			msg = fmt.Sprintf("%s: %q is not a duration of 0 or more", flag, v)
		}
		return &flagError{msg}
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
// either must be positive. NaN, ±Inf and more seconds than a
// time.Duration holds (292 years) are refused.
func parseSeconds(flag, s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(n) || math.IsInf(n, 0):
			return 0, fmt.Errorf("%s: %q is not a finite number of seconds", flag, s)
		case n <= 0:
			return 0, fmt.Errorf("%s must be positive", flag)
		case n >= math.MaxInt64/float64(time.Second):
			return 0, fmt.Errorf("%s: %s seconds is too long", flag, s)
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

// floatFlags makes every float flag of every subcommand refuse NaN and
// ±Inf, which strconv.ParseFloat (and so kong) accepts as "NaN", "Inf" or
// "infinity" and which no lmfast setting can use: --rate=NaN would pace
// nothing and report success.
func floatFlags() kong.Option {
	return kong.TypeMapper(reflect.TypeOf(float64(0)), kong.MapperFunc(decodeFiniteFloat))
}

// decodeFiniteFloat is kong's float decoder with a finite check: values
// out of float64's range ("1e400") are refused too.
func decodeFiniteFloat(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("float")
	if err != nil {
		return err
	}
	var f float64
	switch v := t.Value.(type) {
	case string:
		f, err = strconv.ParseFloat(v, 64)
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("%q is out of range", v)
		}
		if err != nil {
			return fmt.Errorf("expected a number but got %q", v)
		}
	case float64:
		f = v
	case float32:
		f = float64(v)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		f = reflect.ValueOf(v).Convert(reflect.TypeOf(float64(0))).Float()
	default:
		return fmt.Errorf("expected a number but got %q (%T)", t, t.Value)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%q is not a finite number", fmt.Sprint(t.Value))
	}
	target.SetFloat(f)
	return nil
}

// secondsOrOff is a duration flag where -1 (LMCache's value) or any zero
// turns the feature off (0); anything else is seconds or a Go duration.
type secondsOrOff time.Duration

// Decode implements kong.MapperValue.
func (s *secondsOrOff) Decode(ctx *kong.DecodeContext) error {
	flag, v, err := flagValue(ctx)
	if err != nil {
		return err
	}
	if v == "-1" || isZeroDuration(v) {
		*s = 0
		return nil
	}
	d, err := parseSeconds(flag, v)
	if err != nil {
		return &flagError{fmt.Sprintf("%s: %q is not a positive duration, 0 or -1 (off)", flag, v)}
	}
	*s = secondsOrOff(d)
	return nil
}
