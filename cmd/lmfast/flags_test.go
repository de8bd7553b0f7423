package main

import (
	"bytes"
	"strings"
	"testing"

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
