package benchreport

import (
	"sort"
	"strconv"
	"strings"
)

// num reads the number at the start of s as C's strtod (and so awk and
// sort -g) does: the longest prefix that is a number, 0 if there is none.
func num(s string) float64 {
	s = strings.TrimLeft(s, " \t\n")
	for n := len(s); n > 0; n-- {
		if v, err := strconv.ParseFloat(s[:n], 64); err == nil || isRange(err) {
			return v
		}
	}
	return 0
}

func isRange(err error) bool {
	e, ok := err.(*strconv.NumError)
	return ok && e.Err == strconv.ErrRange
}

// sortGeneral sorts as sort -g: by the number each string starts with,
// equal numbers by their bytes.
func sortGeneral(v []string) {
	sort.SliceStable(v, func(i, j int) bool {
		a, b := num(v[i]), num(v[j])
		if a != b {
			return a < b
		}
		return v[i] < v[j]
	})
}

// median is the median of v: the middle value's text for an odd count,
// the mean of the middle two with the given decimals for an even count,
// "n/a" for none.
func median(v []string, decimals int) string {
	if len(v) == 0 {
		return "n/a"
	}
	s := append([]string(nil), v...)
	sortGeneral(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return strconv.FormatFloat((num(s[n/2-1])+num(s[n/2]))/2, 'f', decimals, 64)
}

// ratio is l / b to 3 decimals, "" when either is missing or b is not
// above 0.
func ratio(l, b string) string {
	if l == "" || b == "" || !aboveZero(b) {
		return ""
	}
	return strconv.FormatFloat(num(l)/num(b), 'f', 3, 64)
}

// aboveZero is awk's b > 0: numerically if b looks like a number, else
// as strings.
func aboveZero(b string) bool {
	t := strings.Trim(b, " \t\n")
	if _, err := strconv.ParseFloat(t, 64); err == nil && t != "" {
		return num(t) > 0
	}
	return b > "0"
}

// verdict is "yes" or "**no**" for v against target, "n/a" when v is not a
// number.
func verdict(v string, target float64) string {
	if !numeric.MatchString(v) {
		return "n/a"
	}
	if num(v) >= target {
		return "yes"
	}
	return "**no**"
}

// gbps turns MiB/s into GB/s (10^9 B/s) with 2 decimals, "n/a" when m is
// not a number.
func gbps(m string) string {
	if !numeric.MatchString(m) {
		return "n/a"
	}
	return strconv.FormatFloat(num(m)*1048576/1e9, 'f', 2, 64)
}

// nonEmpty drops the empty strings of v.
func nonEmpty(v []string) []string {
	var out []string
	for _, s := range v {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
