package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/forcesync/forcesync"
	"github.com/forcesync/forcesync/internal/csvcr"
)

// Row is one parsed data row of a file: a change, or why the row is bad.
type Row struct {
	Line   int64 // 1-based line in the file
	Change forcesync.Change
	Bad    string // non-empty when the row cannot be used
}

// Reader yields a file's data rows one at a time; Next returns io.EOF at
// the end. A bad row is a Row with Bad set, not an error: errors are the
// file's (I/O), after which reading stops.
type Reader interface {
	Next() (Row, error)
}

// CSV reads CSV: the header row names the fields; empty cells are absent
// fields, so defaults and fallback chains apply to them.
type CSV struct {
	r      *csv.Reader
	header []string
	keyCol int
	source string
	// order lists, per distinct field name in sorted order, the name's
	// JSON key (`"name":`) and its columns: Next writes a row's fields JSON
	// itself, byte for byte what json.Marshal makes of the fields map.
	order []jsonCol
	buf   []byte
}

// jsonCol is one field name of the header and the columns carrying it
// (more than one when the header repeats it: the last non-empty wins, as
// in the fields map).
type jsonCol struct {
	key  []byte
	cols []int
}

// NewCSV reads the header row of r; key is the column holding the record key.
func NewCSV(r io.Reader, source, key string) (*CSV, error) {
	cr := csv.NewReader(csvcr.Wrap(r, ',')) // quoted values keep their "\r\n"
	cr.FieldsPerRecord = -1                 // a wrong column count is a bad row, not the end
	cr.ReuseRecord = true
	header, err := cr.Read()
	csvcr.Restore(header)
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return nil, forcesync.Errorf(forcesync.EInvalid, "the file is empty: a CSV file starts with a header row naming its columns")
	case errors.As(err, &pe):
		return nil, forcesync.Errorf(forcesync.EInvalid, "the header row (line %d) is not valid CSV: %v", pe.Line, pe.Err)
	case err != nil:
		return nil, fmt.Errorf("read the header row: %w", err)
	}
	c := &CSV{r: cr, header: append([]string(nil), header...), keyCol: -1, source: source}
	for i, h := range c.header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		c.header[i] = h
		if h == key {
			c.keyCol = i
		}
	}
	if c.keyCol < 0 {
		return nil, forcesync.Errorf(forcesync.EInvalid, "the header row has no %q column (the source's key)", key)
	}
	byName := map[string][]int{}
	for i, h := range c.header {
		byName[h] = append(byName[h], i)
	}
	for _, h := range slices.Sorted(maps.Keys(byName)) {
		k, _ := json.Marshal(h)
		c.order = append(c.order, jsonCol{key: append(k, ':'), cols: byName[h]})
	}
	return c, nil
}

// Columns returns the header's column names other than the key's, in
// the header's order, each once.
func (c *CSV) Columns() []string {
	var out []string
	seen := map[string]bool{c.header[c.keyCol]: true}
	for _, h := range c.header {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// Next implements Reader.
func (c *CSV) Next() (Row, error) {
	rec, err := c.r.Read()
	csvcr.Restore(rec)
	var row Row
	if err == nil {
		// FieldPos panics unless the last Read returned a record.
		line, _ := c.r.FieldPos(0)
		row.Line = int64(line)
	} else {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row.Line = int64(pe.Line)
			row.Bad = pe.Err.Error()
			return row, nil
		}
		return row, err
	}
	if len(rec) != len(c.header) {
		row.Bad = fmt.Sprintf("%d columns, the header has %d", len(rec), len(c.header))
		return row, nil
	}
	key := strings.TrimSpace(rec[c.keyCol])
	if key == "" {
		row.Bad = fmt.Sprintf("empty key column %q", c.header[c.keyCol])
		return row, nil
	}
	if len(key) > MaxKeyBytes {
		row.Bad = fmt.Sprintf("key column %q is longer than %d bytes", c.header[c.keyCol], MaxKeyBytes)
		return row, nil
	}
	fields := make(map[string]any, len(rec))
	for i, v := range rec {
		if v != "" {
			fields[c.header[i]] = v
		}
	}
	row.Change = forcesync.Change{Source: c.source, Key: key, Op: forcesync.OpUpsert, Fields: fields, FieldsJSON: c.fieldsJSON(rec)}
	return row, nil
}

// fieldsJSON encodes a record's non-empty cells as the JSON object
// json.Marshal makes of its fields map: keys sorted, strings escaped the
// same way (HTML characters too).
func (c *CSV) fieldsJSON(rec []string) []byte {
	b := append(c.buf[:0], '{')
	for _, f := range c.order {
		v := ""
		for _, i := range f.cols {
			if rec[i] != "" {
				v = rec[i]
			}
		}
		if v == "" {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		b = appendJSONString(b, v)
	}
	b = append(b, '}')
	c.buf = b
	return bytes.Clone(b)
}

// appendJSONString appends s as encoding/json writes a string: plain
// printable ASCII as is, anything else through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '<' || ch == '>' || ch == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// MaxKeyBytes is the longest record key any door accepts.
const MaxKeyBytes = 255

// NDJSON reads one JSON object a line: a change object {key, op, version,
// fields} as the ingest API takes, or a plain record holding the source's
// key field.
type NDJSON struct {
	r      *bufio.Reader
	line   int64
	source string
	key    string
}

// NewNDJSON reads r; key is the field of a plain record holding its key.
func NewNDJSON(r io.Reader, source, key string) *NDJSON {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<20)
	}
	return &NDJSON{r: br, source: source, key: key}
}

// MaxLine bounds one NDJSON line so a file without newlines cannot eat memory.
const MaxLine = 16 << 20

// Next implements Reader.
func (n *NDJSON) Next() (Row, error) {
	for {
		b, err := n.readLine()
		if err != nil && len(b) == 0 {
			return Row{}, err
		}
		n.line++
		row := Row{Line: n.line}
		if n.line == 1 {
			// A byte order mark, as some editors write, is not data
			// (the CSV reader drops it from the header too).
			b = bytes.TrimPrefix(b, []byte("\ufeff"))
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue // blank lines are not rows
		}
		if len(b) > MaxLine {
			row.Bad = fmt.Sprintf("line longer than %d bytes", MaxLine)
			return row, nil
		}
		row.Change, row.Bad = n.parse(b)
		return row, nil
	}
}

// readLine returns one line; lines beyond the limit are consumed and
// returned truncated to limit+1 bytes so the caller reports them.
func (n *NDJSON) readLine() ([]byte, error) {
	var buf []byte
	for {
		part, isPrefix, err := n.r.ReadLine()
		if len(buf) <= MaxLine {
			buf = append(buf, part...)
		}
		if err != nil || !isPrefix {
			return buf, err
		}
	}
}

// parse reads one line. A change object (see isChangeObject) is decoded by
// DecodeRecord, under the REST ingest API's rules; any other object is a
// plain record keyed by its key field.
func (n *NDJSON) parse(b []byte) (forcesync.Change, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return forcesync.Change{}, "not a JSON object"
	}
	if isChangeObject(obj) {
		ch, p := DecodeRecord(0, b)
		if p != nil {
			if p.Field == "" {
				return ch, p.Error
			}
			return ch, p.Field + ": " + p.Error
		}
		ch.Source = n.source
		if len(ch.FieldsJSON) > 0 {
			d := json.NewDecoder(bytes.NewReader(ch.FieldsJSON))
			d.UseNumber()
			if err := d.Decode(&ch.Fields); err != nil {
				return ch, "fields: " + err.Error()
			}
		}
		return ch, ""
	}
	ch := forcesync.Change{Source: n.source, Op: forcesync.OpUpsert}
	fields := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&fields); err != nil {
		return ch, "not a JSON object"
	}
	ch.Key = keyString(fields[n.key])
	ch.Fields = fields
	if ch.Key == "" {
		switch v := fields[n.key].(type) {
		case nil, string:
			return ch, fmt.Sprintf("empty or missing key %q", n.key)
		default:
			return ch, fmt.Sprintf("key %q is a JSON %s: it must be a string or a number", n.key, jsonKind(v))
		}
	}
	if len(ch.Key) > MaxKeyBytes {
		return ch, fmt.Sprintf("key %q is longer than %d bytes", n.key, MaxKeyBytes)
	}
	if path, num := forcesync.NumberOutOfRange(fields); path != "" {
		return ch, outOfRangeMsg(path, num) // a plain record's properties are its fields: path names one
	}
	return ch, ""
}

// isChangeObject tells a line in the ingest API's shape ({key, op, version,
// fields}) from a flat record: it has fields, or it has an op and nothing
// but those four properties (so {"key":"k","op":"disable"} is a change, as
// REST ingest reads it, while a record with its own "op" column is data).
func isChangeObject(obj map[string]json.RawMessage) bool {
	if _, ok := obj["fields"]; ok {
		return true
	}
	if _, ok := obj["op"]; !ok {
		return false
	}
	for k := range obj {
		switch k {
		case "key", "op", "version", "fields":
		default:
			return false
		}
	}
	return true
}

// jsonKind names the JSON type of a decoded value, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// keyString renders a JSON key value (string or number) as the record key.
func keyString(v any) string {
	switch k := v.(type) {
	case string:
		return strings.TrimSpace(k)
	case json.Number:
		return k.String()
	default:
		return ""
	}
}

// CountLines counts the lines of a file (a last line without a newline
// counts), for a progress bar's total; -1 when the file cannot be read.
func CountLines(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 256<<10)
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err != nil {
			break
		}
	}
	if last != '\n' {
		n++
	}
	return n
}
