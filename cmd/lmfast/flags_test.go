package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// TestSecondsFlags: kong decodes seconds and secondsOrZero flags from
// numbers of seconds, Go durations and defaults; zero is refused by
// seconds and kept by secondsOrZero; a flag not given and without a
// default stays 0.
func TestSecondsFlags(t *testing.T) {
	type flags struct {
		D seconds       `default:"60"`
		I seconds       `default:"1.5"`
		Z secondsOrZero `default:"10"`
		T seconds
	}
	parse := func(args ...string) (flags, error) {
		var f flags
		p, err := kong.New(&f, kong.Exit(func(int) {}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Parse(args)
		return f, err
	}
	f, err := parse()
	if err != nil || time.Duration(f.D) != time.Minute || time.Duration(f.I) != 1500*time.Millisecond ||
		time.Duration(f.Z) != 10*time.Second || f.T != 0 {
		t.Fatalf("defaults %+v, %v", f, err)
	}
	f, err = parse("--d=2m", "--z=0s", "--t=0.25")
	if err != nil || time.Duration(f.D) != 2*time.Minute || f.Z != 0 || time.Duration(f.T) != 250*time.Millisecond {
		t.Fatalf("given %+v, %v", f, err)
	}
	for _, args := range [][]string{{"--d=0"}, {"--t=-1s"}, {"--z=x"}, {"--i=-2"}} {
		if _, err := parse(args...); err == nil {
			t.Errorf("%v parsed", args)
		}
	}
}

// TestDurationFlagErrors: a bad duration of any command is one line
// naming the flag, exit 2, before the command runs.
func TestDurationFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"controller", "--duration=0"}, "lmfast: --duration must be positive\n"},
		{[]string{"controller", "--interval", "1x"}, "lmfast: --interval: \"1x\" is not a positive duration\n"},
		{[]string{"controller", "--drain-timeout=-1s"}, "lmfast: --drain-timeout: \"-1s\" is not a positive duration\n"},
		{[]string{"controller", "--register-timeout=0"}, "lmfast: --register-timeout must be positive\n"},
		{[]string{"sink", "--interval=0"}, "lmfast: --interval must be positive\n"},
		{[]string{"sink", "--duration=soon"}, "lmfast: --duration: \"soon\" is not a positive duration\n"},
		{[]string{"calibrate", "--duration=0ms"}, "lmfast: --duration: \"0ms\" is not a positive duration\n"},
		{[]string{"l2", "--round-timeout=0"}, "lmfast: --round-timeout must be positive\n"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
		if code != ExitBadInput || stderr.String() != tc.want || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, %d bytes on stdout; want exit 2 and %q", tc.args, code, stderr.String(), stdout.Len(), tc.want)
		}
	}
}
