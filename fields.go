package forcesync

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// CodeUnreadableRecord is the record error of a record whose stored fields
// cannot be read back: typically a number past float64's range (1e400),
// stored before the doors refused such numbers. The message names the
// field; the record stays held until a new change of it replaces the
// stored fields. Only that record waits: the rest of its mappings flow.
const CodeUnreadableRecord = "UNREADABLE_RECORD"

// NumberOutOfRange finds a number in v (JSON decoded with UseNumber) that
// a float64 cannot hold, and its path (amount, address.zip, phones[1]);
// "" when there is none. The doors refuse such numbers and the stores
// name them when old data holds one.
func NumberOutOfRange(v any) (path string, n json.Number) {
	return outOfRange("", v)
}

func outOfRange(path string, v any) (string, json.Number) {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return path, x
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if bad, n := outOfRange(p, x[k]); bad != "" {
				return bad, n
			}
		}
	case []any:
		for i, e := range x {
			if bad, n := outOfRange(fmt.Sprintf("%s[%d]", path, i), e); bad != "" {
				return bad, n
			}
		}
	}
	return "", ""
}
