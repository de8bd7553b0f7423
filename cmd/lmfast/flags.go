package main

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"

	"github.com/alecthomas/kong"
)

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
