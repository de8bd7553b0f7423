package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// TestFloatFlagsFinite: NaN, ±Inf and out-of-range numbers in every float
// and seconds flag of every subcommand are refused with exit 2 and one
// line naming the flag, before anything runs. (strconv.ParseFloat accepts
// "NaN" and "Inf"; kong's float decoder passed them on.)
func TestFloatFlagsFinite(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"controller", "--rate=NaN"}, `--rate: "NaN" is not a finite number`},
		{[]string{"controller", "--rate=Inf"}, `--rate: "Inf" is not a finite number`},
		{[]string{"controller", "--rate=-Inf"}, `--rate: "-Inf" is not a finite number`},
		{[]string{"controller", "--rate=infinity"}, `--rate: "infinity" is not a finite number`},
		{[]string{"controller", "--rate=1e400"}, `--rate: "1e400" is out of range`},
		{[]string{"controller", "--rate=fast"}, `--rate: expected a number but got "fast"`},
		{[]string{"controller", "--duration=NaN"}, `--duration: "NaN" is not a finite number of seconds`},
		{[]string{"controller", "--duration=Inf"}, `--duration: "Inf" is not a finite number of seconds`},
		{[]string{"controller", "--duration=1e300"}, `--duration: 1e300 seconds is too long`},
		{[]string{"controller", "--interval=NaN"}, `--interval: "NaN" is not a finite number of seconds`},
		{[]string{"controller", "--drain-timeout=+Inf"}, `--drain-timeout: "+Inf" is not a finite number of seconds`},
		{[]string{"controller", "--operations=admit:Inf"}, `--operations: bad percentage "Inf" for admit`},
		{[]string{"l2", "--lookup-max-hit-rate=NaN"}, `--lookup-max-hit-rate: "NaN" is not a finite number`},
		{[]string{"l2", "--lookup-max-hit-rate=-Inf"}, `--lookup-max-hit-rate: "-Inf" is not a finite number`},
		{[]string{"l2", "--mode=window", "--duration=Inf"}, `--duration: "Inf" is not a finite number of seconds`},
		{[]string{"l2", "--round-timeout=NaN"}, `--round-timeout: "NaN" is not a finite number of seconds`},
		{[]string{"calibrate", "--duration=NaN"}, `--duration: "NaN" is not a finite number of seconds`},
		{[]string{"sink", "--duration=Inf"}, `--duration: "Inf" is not a finite number of seconds`},
		{[]string{"sink", "--interval=NaN"}, `--interval: "NaN" is not a finite number of seconds`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &out, &errb)
			msg := errb.String()
			if code != ExitBadInput || !strings.Contains(msg, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, msg, ExitBadInput, tc.want)
			}
			if strings.Count(strings.TrimSpace(msg), "\n") != 0 || out.Len() != 0 {
				t.Fatalf("want one stderr line and no stdout, got stderr %q, stdout %q", msg, out.String())
			}
		})
	}
}

// TestFloatFlagsAccepted: finite values pass the float decoder in every
// spelling ParseFloat takes, and keep their value.
func TestFloatFlagsAccepted(t *testing.T) {
	for v, want := range map[string]float64{"0": 0, "2.5": 2.5, "1e3": 1000, "0x1p4": 16, "-0.25": -0.25} {
		var flags struct{ Rate float64 }
		parser, err := kong.New(&flags, floatFlags(), kong.Exit(func(int) {}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse([]string{"--rate=" + v}); err != nil || flags.Rate != want {
			t.Errorf("--rate %s: %v, %v", v, flags.Rate, err)
		}
	}
}

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
		{[]string{"sink", "--duration=soon"}, "lmfast: --duration: \"soon\" is not a duration of 0 or more\n"},
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
