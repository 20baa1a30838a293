package mapping

import (
	"strconv"
	"strings"
)

// decimal is a number kept as decimal digits, so rounding to a field's scale
// gives the answer Salesforce gives to the JSON text it receives (1.005 rounds
// to 1.01 at scale 2), which binary float64 arithmetic would not.
type decimal struct {
	neg  bool
	intp string // integer digits without leading zeros; "" means 0
	frac string // fraction digits
}

// maxExponent bounds the exponent of a parsed number: no Salesforce number
// field holds more than 18 integer digits or 18 decimals, so anything beyond
// is out of range (or zero) and need not be expanded into digits.
const maxExponent = 64

// parseDecimal reads a plain or exponent decimal number ("-12", "1.50",
// "6.02e23"). It reports ok=false for anything else (hex, "NaN", "1,000",
// blanks). huge is set when the magnitude is beyond any field's range.
func parseDecimal(s string) (d decimal, huge, ok bool) {
	if s == "" {
		return d, false, false
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		d.neg = s[0] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	ip := s[start:i]
	fp := ""
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fp = s[fs:i]
	}
	if ip == "" && fp == "" {
		return d, false, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		es := i
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ds := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if ds == i {
			return d, false, false
		}
		digits := strings.TrimLeft(s[ds:i], "0")
		if len(digits) > 6 {
			digits = "999999"
		}
		n, _ := strconv.Atoi("0" + digits)
		if s[es] == '-' {
			n = -n
		}
		exp = n
	}
	if i != len(s) {
		return d, false, false
	}
	ip = strings.TrimLeft(ip, "0")
	if strings.Trim(ip+fp, "0") == "" {
		return decimal{}, false, true // zero, whatever its exponent or sign
	}
	switch {
	case exp > maxExponent:
		return d, true, true
	case exp < -maxExponent:
		return decimal{}, false, true // far below any scale: rounds to zero
	case exp > 0:
		for len(fp) < exp {
			fp += "0"
		}
		ip, fp = ip+fp[:exp], fp[exp:]
	case exp < 0:
		for len(ip) < -exp {
			ip = "0" + ip
		}
		cut := len(ip) + exp
		ip, fp = ip[:cut], ip[cut:]+fp
	}
	d.intp = strings.TrimLeft(ip, "0")
	d.frac = fp
	return d, false, true
}

// round rounds d to scale fraction digits, ties away from zero (Salesforce's
// HALF_UP), and drops trailing fraction zeros.
func (d decimal) round(scale int) decimal {
	if scale < 0 {
		scale = 0
	}
	if len(d.frac) > scale {
		up := d.frac[scale] >= '5'
		digits := []byte(d.intp + d.frac[:scale])
		if up {
			j := len(digits) - 1
			for ; j >= 0; j-- {
				if digits[j] == '9' {
					digits[j] = '0'
					continue
				}
				digits[j]++
				break
			}
			if j < 0 {
				digits = append([]byte{'1'}, digits...)
			}
		}
		n := len(digits) - scale
		d.intp = strings.TrimLeft(string(digits[:n]), "0")
		d.frac = string(digits[n:])
	}
	d.frac = strings.TrimRight(d.frac, "0")
	if d.intp == "" && d.frac == "" {
		d.neg = false
	}
	return d
}

// intDigits is how many digits the integer part has (0 for zero).
func (d decimal) intDigits() int { return len(d.intp) }

// String renders d as plain decimal text: "-12.5", "0.25", "0".
func (d decimal) String() string {
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	if d.intp == "" {
		b.WriteByte('0')
	} else {
		b.WriteString(d.intp)
	}
	if d.frac != "" {
		b.WriteByte('.')
		b.WriteString(d.frac)
	}
	return b.String()
}
