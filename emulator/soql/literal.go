package soql

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// parseDate parses a date literal YYYY-MM-DD.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

// parseDateTime parses a datetime literal with Z or a ±hh:mm offset and
// returns it in UTC.
func parseDateTime(s string) (time.Time, bool) {
	s = strings.Replace(s, "t", "T", 1)
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// dateConstant describes a relative date literal such as TODAY or
// LAST_N_DAYS:n. span returns the covered range of days [from, to), given
// today (midnight UTC) and n. Weeks start on Sunday (the en_US locale);
// quarters and years are calendar ones, and the fiscal forms equal them
// (an org's fiscal year starts in January unless set otherwise).
type dateConstant struct {
	ok     bool
	takesN bool
	span   func(today time.Time, n int) (from, to time.Time)
}

// days, weeks, months, quarters and years build the spans of the date
// literals: the unit containing today shifted by first units, lasting count.
func days(first, count int) func(time.Time, int) (time.Time, time.Time) {
	return func(today time.Time, _ int) (time.Time, time.Time) {
		return today.AddDate(0, 0, first), today.AddDate(0, 0, first+count)
	}
}

// unitSpan returns a span function over units of size months (0: weeks)
// whose offset and length depend on n.
func unitSpan(months int, first, count func(n int) int) func(time.Time, int) (time.Time, time.Time) {
	return func(today time.Time, n int) (time.Time, time.Time) {
		if months == 0 {
			start := today.AddDate(0, 0, -int(today.Weekday()))
			return start.AddDate(0, 0, 7*first(n)), start.AddDate(0, 0, 7*(first(n)+count(n)))
		}
		m := int(today.Month()) - 1
		start := time.Date(today.Year(), time.Month(m-m%months+1), 1, 0, 0, 0, 0, time.UTC)
		return start.AddDate(0, months*first(n), 0), start.AddDate(0, months*(first(n)+count(n)), 0)
	}
}

func fixed(k int) func(int) int { return func(int) int { return k } }
func minusN(n int) int          { return -n }
func nAfter(n int) int          { return n }

// dateConstants are the relative date literals of SOQL ("Date Formats and
// Date Literals" in the SOQL reference).
var dateConstants = map[string]dateConstant{
	"YESTERDAY": {ok: true, span: days(-1, 1)},
	"TODAY":     {ok: true, span: days(0, 1)},
	"TOMORROW":  {ok: true, span: days(1, 1)},
	// LAST_N_DAYS:n covers today and the n days before it.
	"LAST_N_DAYS": {ok: true, takesN: true, span: func(t time.Time, n int) (time.Time, time.Time) { return days(-n, n+1)(t, n) }},
	// NEXT_N_DAYS:n covers the n days after today (today excluded).
	"NEXT_N_DAYS":  {ok: true, takesN: true, span: func(t time.Time, n int) (time.Time, time.Time) { return days(1, n)(t, n) }},
	"N_DAYS_AGO":   {ok: true, takesN: true, span: func(t time.Time, n int) (time.Time, time.Time) { return days(-n, 1)(t, n) }},
	"LAST_90_DAYS": {ok: true, span: days(-90, 91)},
	"NEXT_90_DAYS": {ok: true, span: days(1, 90)},
}

func init() {
	units := []struct {
		name   string
		months int
	}{{"WEEK", 0}, {"MONTH", 1}, {"QUARTER", 3}, {"YEAR", 12}, {"FISCAL_QUARTER", 3}, {"FISCAL_YEAR", 12}}
	for _, u := range units {
		plural := u.name + "S"
		dateConstants["THIS_"+u.name] = dateConstant{ok: true, span: unitSpan(u.months, fixed(0), fixed(1))}
		dateConstants["LAST_"+u.name] = dateConstant{ok: true, span: unitSpan(u.months, fixed(-1), fixed(1))}
		dateConstants["NEXT_"+u.name] = dateConstant{ok: true, span: unitSpan(u.months, fixed(1), fixed(1))}
		// LAST_N_MONTHS:n: the n whole months before this one; NEXT_N_MONTHS:n:
		// the n after it; N_MONTHS_AGO:n: the one month n months back.
		dateConstants["LAST_N_"+plural] = dateConstant{ok: true, takesN: true, span: unitSpan(u.months, minusN, nAfter)}
		dateConstants["NEXT_N_"+plural] = dateConstant{ok: true, takesN: true, span: unitSpan(u.months, fixed(1), nAfter)}
		dateConstants["N_"+plural+"_AGO"] = dateConstant{ok: true, takesN: true, span: unitSpan(u.months, minusN, fixed(1))}
	}
}

// decodeString decodes the escapes of a string literal (already validated).
func decodeString(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 <= len(raw) {
				if n, err := strconv.ParseUint(raw[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(n))
					i += 4
					continue
				}
			}
			b.WriteByte('u')
		default: // ' " \ and, in LIKE patterns, % _
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

// likeItem is one element of a compiled LIKE pattern.
type likeItem struct {
	any  bool // %: any run of characters
	one  bool // _: exactly one character
	text string
}

// compileLike turns a raw LIKE literal into items; literal text is folded to
// lower case because SOQL's LIKE ignores case.
func compileLike(raw string) []likeItem {
	var items []likeItem
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			items = append(items, likeItem{text: strings.ToLower(decodeString(lit.String()))})
			lit.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\\':
			if i+1 < len(raw) && (raw[i+1] == '%' || raw[i+1] == '_') {
				lit.WriteByte(raw[i+1])
			} else if i+1 < len(raw) {
				lit.WriteByte(c)
				lit.WriteByte(raw[i+1])
			}
			i++
		case '%':
			flush()
			if len(items) == 0 || !items[len(items)-1].any {
				items = append(items, likeItem{any: true})
			}
		case '_':
			flush()
			items = append(items, likeItem{one: true})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return items
}

// likeMatch reports whether s (already lower case) matches items.
func likeMatch(items []likeItem, s string) bool {
	for len(items) > 0 {
		it := items[0]
		switch {
		case it.one:
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			s, items = s[n:], items[1:]
		case it.any:
			rest := items[1:]
			if len(rest) == 0 {
				return true
			}
			// Try every split; literal items anchor the search.
			for i := 0; i <= len(s); {
				if rest[0].text != "" {
					j := strings.Index(s[i:], rest[0].text)
					if j < 0 {
						return false
					}
					i += j
				}
				if likeMatch(rest, s[i:]) {
					return true
				}
				if i == len(s) {
					break
				}
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
			}
			return false
		default:
			if !strings.HasPrefix(s, it.text) {
				return false
			}
			s, items = s[len(it.text):], items[1:]
		}
	}
	return s == ""
}
