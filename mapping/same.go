package mapping

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// SameValue reports whether two values of a field of type typ are the same
// Salesforce value, whichever side they come from: a pulled JSON value
// (float64 or json.Number, strings, booleans, null), a payload value
// (string, json.Number, bool, nil) or a stored base. Empty text and null
// are the same (Salesforce stores no empty strings); numbers compare by
// value; datetimes by instant.
func SameValue(typ string, a, b any) bool {
	return canon(typ, a) == canon(typ, b)
}

// canon is a value's canonical text for comparison.
func canon(typ string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return canonNumber(fmt.Sprint(x))
	case json.Number:
		return canonNumber(string(x))
	case int, int64:
		return canonNumber(fmt.Sprint(x))
	case string:
		switch typ {
		case "datetime":
			for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00"} {
				if t, err := time.Parse(layout, x); err == nil {
					return t.UTC().Format(time.RFC3339Nano)
				}
			}
		case "double", "currency", "percent", "int", "long":
			return canonNumber(x)
		case "boolean":
			return strings.ToLower(x)
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canon("", e)
		}
		return strings.Join(parts, ";")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func canonNumber(s string) string {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return s
	}
	return r.RatString()
}
