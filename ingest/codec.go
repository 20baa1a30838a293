package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/forcesync/forcesync"
)

// Record is the wire form of one change: {key, op, version, fields}. The
// REST ingest API takes arrays or NDJSON of them and file pushes take NDJSON
// lines of them; both decode it with DecodeRecord, under the same rules.
type Record struct {
	Key     string         `json:"key"`
	Op      string         `json:"op"`
	Version int64          `json:"version"`
	Fields  map[string]any `json:"fields"`
}

// Problem is why one record of a body was refused.
type Problem struct {
	Index int    `json:"index"` // 0-based position in the body
	Key   string `json:"key,omitempty"`
	Field string `json:"field"`
	Error string `json:"error"`
}

// DecodeBody reads a JSON array or NDJSON (one object per line) of
// records. A body that is not JSON at all is an error; a record that is
// malformed is a Problem naming its index, key and field, and the others are
// still returned.
func DecodeBody(r io.Reader) ([]forcesync.Change, []Problem, error) {
	br := bufio.NewReader(r)
	first, err := firstNonSpace(br)
	if err != nil && tooLarge(err) {
		return nil, nil, err
	}
	if err == io.EOF {
		return nil, nil, forcesync.Errorf(forcesync.EInvalid, "body is empty: send a JSON array or NDJSON of {key, op, version, fields}")
	}
	if err != nil {
		return nil, nil, err
	}
	var raws []json.RawMessage
	if first == '[' {
		dec := json.NewDecoder(br)
		if err := dec.Decode(&raws); err != nil {
			if tooLarge(err) {
				return nil, nil, err
			}
			return nil, nil, forcesync.Errorf(forcesync.EInvalid, "body is not a JSON array of records: %v", jsonErr(err))
		}
		if dec.More() {
			return nil, nil, forcesync.Errorf(forcesync.EInvalid, "body has data after the JSON array")
		}
	} else {
		sc := bufio.NewScanner(br)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			if !json.Valid(b) {
				return nil, nil, ndjsonLineErr(line, b)
			}
			raws = append(raws, append(json.RawMessage(nil), b...))
		}
		if err := sc.Err(); err != nil {
			if tooLarge(err) {
				return nil, nil, err
			}
			return nil, nil, forcesync.Errorf(forcesync.EInvalid, "NDJSON line %d: %v", line+1, err)
		}
	}
	var out []forcesync.Change
	var probs []Problem
	for i, raw := range raws {
		c, p := DecodeRecord(i, raw)
		if p != nil {
			probs = append(probs, *p)
			continue
		}
		out = append(out, c)
	}
	return out, probs, nil
}

// DecodeRecord decodes one change object strictly: properties other than
// key, op, version and fields are refused, the key is a non-empty string
// (or number) of at most MaxKeyBytes, op is upsert (default), delete or
// disable, version a non-negative integer, and fields an object, required
// for an upsert. i is the record's position, reported in the Problem.
func DecodeRecord(i int, raw json.RawMessage) (forcesync.Change, *Problem) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return forcesync.Change{}, &Problem{Index: i, Field: "", Error: "record is not a JSON object"}
	}
	var rec Record
	bad := func(field, msg string) (forcesync.Change, *Problem) {
		return forcesync.Change{}, &Problem{Index: i, Key: problemKey(rec.Key), Field: field, Error: msg}
	}
	for k := range obj {
		switch k {
		case "key", "op", "version", "fields":
		default:
			return bad(k, "unknown property (allowed: key, op, version, fields)")
		}
	}
	if v, ok := obj["key"]; ok {
		var n json.Number
		if err := json.Unmarshal(v, &rec.Key); err != nil {
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if dec.Decode(&n) != nil {
				return bad("key", "must be a non-empty string or a number")
			}
			rec.Key = n.String()
		}
	}
	if v, ok := obj["op"]; ok {
		if err := json.Unmarshal(v, &rec.Op); err != nil {
			return bad("op", "must be a string: upsert, delete or disable")
		}
	}
	if v, ok := obj["version"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &rec.Version); err != nil {
			return bad("version", "must be a non-negative integer")
		}
	}
	// The fields are kept as received (the body was parsed whole above, so
	// they are valid JSON); the store needs them encoded anyway.
	var fields json.RawMessage
	if v, ok := obj["fields"]; ok && string(v) != "null" {
		if fields = bytes.TrimSpace(v); len(fields) == 0 {
			fields = json.RawMessage(" ") // not an object: Check says so
		}
	}
	// The rest is the rule set every door shares (check.go).
	c, p := Check(forcesync.Change{Key: rec.Key, Op: forcesync.Op(rec.Op), Version: rec.Version, FieldsJSON: fields})
	if p != nil {
		p.Index = i
		return forcesync.Change{}, p
	}
	return c, nil
}

// tooLarge reports whether err is the body size limit, which the caller
// answers with 413 (it is returned as is).
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // a UTF-8 byte order mark
			if nx, _ := br.Peek(2); len(nx) == 2 && nx[0] == 0xBB && nx[1] == 0xBF {
				br.Discard(2)
				continue
			}
		}
		return b, br.UnreadByte()
	}
}

// ndjsonLineErr says why line n of an NDJSON body (b, trimmed) is not
// JSON: the parser's complaint, and, for a line that opens an object or an
// array it never closes, that a record must fit on one line (a pretty-printed
// object sent as application/json is read line by line, like NDJSON).
func ndjsonLineErr(n int, b []byte) error {
	var v any
	detail := "not valid JSON"
	if err := json.Unmarshal(b, &v); err != nil {
		detail = jsonErr(err)
	}
	msg := fmt.Sprintf("NDJSON line %d is not valid JSON: %s", n, detail)
	if (b[0] == '{' || b[0] == '[') && unclosed(b) {
		msg += "; each record must be on one line (NDJSON), or send a JSON array of records"
	}
	return forcesync.Errorf(forcesync.EInvalid, "%s", msg)
}

// unclosed reports whether b ends inside an object or array it opened: the
// parser ran out of input rather than meeting a wrong byte.
func unclosed(b []byte) bool {
	var v any
	var se *json.SyntaxError
	return errors.As(json.Unmarshal(b, &v), &se) && se.Offset >= int64(len(b))
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %v at byte %d", te.Type, te.Offset)
	}
	return err.Error()
}
