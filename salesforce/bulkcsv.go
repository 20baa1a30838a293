package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forcesync/forcesync/internal/csvcr"
)

// This file holds the CSV side of Bulk API 2.0: turning records into upload
// bodies cut under a size cap, and reading result files row by row. Nothing
// here holds more than one row at a time.

// BulkNull is the cell value that sets a field to null in a Bulk API 2.0
// upload. An empty cell means "no value": ignored on update, null on insert.
const BulkNull = "#N/A"

// Record is one record of a record-based ingest: field name to value. A key
// absent from the map uploads an empty cell (the field is left as it is on
// update); a nil value uploads BulkNull (the field is cleared).
//
// Values may be string, bool, any Go integer or float, json.Number,
// time.Time (sent as UTC with milliseconds), []string (a multi-select
// picklist, joined with ";"), fmt.Stringer, or nil.
type Record map[string]any

// FormatBulkValue renders one value as a Bulk API 2.0 CSV cell, following
// the rules on Record.
func FormatBulkValue(v any) (string, error) {
	if s, ok := formatInteger(v); ok {
		return s, nil
	}
	switch x := v.(type) {
	case nil:
		return BulkNull, nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float32:
		return formatFloat(float64(x), 32)
	case float64:
		return formatFloat(x, 64)
	case json.Number:
		return x.String(), nil
	case time.Time:
		// Salesforce reads ISO 8601; UTC with milliseconds is what it writes.
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case []string:
		return strings.Join(x, ";"), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("salesforce: bulk value of type %T cannot be written to CSV", v)
}

// formatInteger writes any of Go's integer types in decimal; ok is false
// for every other type.
func formatInteger(v any) (string, bool) {
	switch x := v.(type) {
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int8:
		return strconv.FormatInt(int64(x), 10), true
	case int16:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

// formatFloat writes plain decimal notation: Salesforce number fields refuse
// exponents such as 1e+21.
func formatFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("salesforce: bulk value %v is not a number Salesforce accepts", f)
	}
	return strconv.FormatFloat(f, 'f', -1, bits), nil
}

// rowSource yields the rows of an upload one at a time. next returns
// ok=false at the end. The returned slice may be reused by the next call.
type rowSource interface {
	header() []string
	next() (row []string, ok bool, err error)
}

// csvSource reads rows from CSV text (comma-separated, any line ending,
// RFC 4180 quoting). The first record is the header.
type csvSource struct {
	r    *csv.Reader
	head []string
}

func newCSVSource(r io.Reader) (*csvSource, error) {
	cr := csv.NewReader(csvcr.Wrap(r, ',')) // quoted values keep their "\r\n"
	cr.ReuseRecord = true
	head, err := cr.Read()
	csvcr.Restore(head)
	if err == io.EOF {
		return nil, errors.New("salesforce: bulk CSV is empty: a header row is required")
	}
	if err != nil {
		return nil, fmt.Errorf("salesforce: reading bulk CSV header: %w", err)
	}
	// A byte-order mark would become part of the first column's name.
	head = slices.Clone(head)
	head[0] = strings.TrimPrefix(head[0], "\ufeff")
	if err := checkHeader(head); err != nil {
		return nil, err
	}
	return &csvSource{r: cr, head: head}, nil
}

func (s *csvSource) header() []string { return s.head }

func (s *csvSource) next() ([]string, bool, error) {
	row, err := s.r.Read()
	csvcr.Restore(row)
	if err == io.EOF {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("salesforce: reading bulk CSV: %w", err)
	}
	return row, true, nil
}

// checkHeader refuses headers Salesforce would fail the job for, before any
// job is created.
func checkHeader(head []string) error {
	if len(head) == 0 {
		return errors.New("salesforce: bulk upload has no columns")
	}
	seen := make(map[string]bool, len(head))
	for _, h := range head {
		if strings.TrimSpace(h) == "" {
			return errors.New("salesforce: bulk upload has an empty column name")
		}
		k := strings.ToLower(h)
		if seen[k] {
			return fmt.Errorf("salesforce: bulk upload names column %q twice", h)
		}
		seen[k] = true
	}
	return nil
}

// recordSource renders Records into rows in the order of fields.
type recordSource struct {
	fields []string
	pull   func() (Record, error, bool)
	row    []string
	n      int
}

func (s *recordSource) header() []string { return s.fields }

func (s *recordSource) next() ([]string, bool, error) {
	rec, err, ok := s.pull()
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.n++
	for i, f := range s.fields {
		v, present := rec[f]
		if !present {
			s.row[i] = ""
			continue
		}
		cell, err := FormatBulkValue(v)
		if err != nil {
			return nil, false, fmt.Errorf("record %d field %s: %w", s.n, f, err)
		}
		s.row[i] = cell
	}
	return s.row, true, nil
}

// rowEncoder writes rows as comma-separated, LF-terminated CSV (what the
// jobs are created to expect) into a reusable buffer, so the caller knows a
// row's size before deciding which job it goes to.
type rowEncoder struct {
	buf bytes.Buffer
	w   *csv.Writer
}

func newRowEncoder() *rowEncoder {
	e := &rowEncoder{}
	e.w = csv.NewWriter(&e.buf)
	return e
}

// encode returns the CSV text of row, valid until the next call.
func (e *rowEncoder) encode(row []string) ([]byte, error) {
	e.buf.Reset()
	if err := e.w.Write(row); err != nil {
		return nil, err
	}
	e.w.Flush()
	if err := e.w.Error(); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// columns is the header of a result file, shared by all its rows.
type columns struct {
	names []string
	index map[string]int
}

func newColumns(names []string) *columns {
	c := &columns{names: names, index: make(map[string]int, len(names))}
	for i, n := range names {
		if _, dup := c.index[n]; !dup {
			c.index[n] = i
		}
	}
	return c
}

// Row is one row of a Bulk result or query file. Values are in the order of
// Columns; a row may be kept after iteration moves on.
type Row struct {
	cols   *columns
	Values []string
}

// Columns returns the column names of the file the row came from. The slice
// is shared: do not modify it.
func (r Row) Columns() []string {
	if r.cols == nil {
		return nil
	}
	return r.cols.names
}

// Get returns the value of the named column and whether the column exists.
func (r Row) Get(name string) (string, bool) {
	if r.cols == nil {
		return "", false
	}
	i, ok := r.cols.index[name]
	if !ok || i >= len(r.Values) {
		return "", false
	}
	return r.Values[i], true
}

// Map returns the row as column name to value.
func (r Row) Map() map[string]string {
	m := make(map[string]string, len(r.Values))
	for i, v := range r.Values {
		if r.cols != nil && i < len(r.cols.names) {
			m[r.cols.names[i]] = v
		}
	}
	return m
}

// SuccessResult is one row of a job's successfulResults file.
type SuccessResult struct {
	ID      string // sf__Id: the record's Id
	Created bool   // sf__Created: true for inserts and upsert-inserts
	Row     Row    // the uploaded columns, as Salesforce echoes them
}

// FailedResult is one row of a job's failedResults file.
type FailedResult struct {
	ID    string       // sf__Id: empty for failed inserts
	Error *RecordError // sf__Error, parsed
	Row   Row          // the uploaded columns, as Salesforce echoes them
}

// ParseBulkError parses a Bulk API 2.0 sf__Error cell, such as
//
//	REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --
//	INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--
//
// into code, message and fields (comma-separated in the cell). A cell not in
// that shape becomes a RecordError whose Message is the whole text, so no
// information is lost.
func ParseBulkError(s string) *RecordError {
	s = strings.TrimSpace(s)
	code, rest, ok := strings.Cut(s, ":")
	if !ok || !isErrorCode(code) {
		return &RecordError{Message: s}
	}
	e := &RecordError{StatusCode: code}
	body, trailer := strings.CutSuffix(rest, "--")
	if !trailer {
		// No field section: the rest is the message.
		e.Message = strings.TrimSpace(rest)
		return e
	}
	body = strings.TrimRight(body, " ")
	// The fields section follows the last colon; messages may hold colons.
	i := strings.LastIndexByte(body, ':')
	if i < 0 {
		e.Message = strings.TrimSpace(body)
		return e
	}
	e.Message = strings.TrimSpace(body[:i])
	for _, f := range strings.Split(body[i+1:], ",") {
		if f = strings.TrimSpace(f); f != "" {
			e.Fields = append(e.Fields, f)
		}
	}
	return e
}

// isErrorCode reports whether s looks like a Salesforce status code
// (REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, ...).
func isErrorCode(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// resultReader reads a result or query CSV from an HTTP body incrementally.
type resultReader struct {
	r    *csv.Reader
	cols *columns
}

// newResultReader reads the header of a result CSV. An empty body (no
// header at all) yields a reader with no rows.
func newResultReader(body io.Reader, delim rune) (*resultReader, error) {
	comma := byte(',')
	if delim != 0 {
		comma = byte(delim) // the Bulk delimiters are single bytes (columnDelimiter)
	}
	cr := csv.NewReader(csvcr.Wrap(body, comma)) // quoted values keep their "\r\n"
	cr.Comma = rune(comma)
	cr.FieldsPerRecord = -1 // checked against the header below, with a clear error
	head, err := cr.Read()
	csvcr.Restore(head)
	if err == io.EOF {
		return &resultReader{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("salesforce: reading bulk result header: %w", err)
	}
	head = slices.Clone(head)
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	return &resultReader{r: cr, cols: newColumns(head)}, nil
}

// next returns the next row; ok is false at the end.
func (rr *resultReader) next() (Row, bool, error) {
	if rr.r == nil {
		return Row{}, false, nil
	}
	rec, err := rr.r.Read()
	csvcr.Restore(rec)
	if err == io.EOF {
		return Row{}, false, nil
	}
	if err != nil {
		return Row{}, false, fmt.Errorf("salesforce: reading bulk result: %w", err)
	}
	if len(rec) != len(rr.cols.names) {
		line, _ := rr.r.FieldPos(0)
		return Row{}, false, fmt.Errorf("salesforce: bulk result line %d has %d fields, header has %d", line, len(rec), len(rr.cols.names))
	}
	return Row{cols: rr.cols, Values: rec}, true, nil
}

// splitSF separates the sf__ columns Salesforce prepends to result files
// from the uploaded ones. It returns the positions of sf__Id, sf__Created and
// sf__Error (-1 when absent) and the columns of the data part. Salesforce
// puts the sf__ columns first; the data part is then a suffix, so rows can
// be sliced instead of copied.
type sfLayout struct {
	id, created, errCol int
	dataFrom            int // data columns are names[dataFrom:]
	data                *columns
}

func layoutOf(cols *columns) (*sfLayout, error) {
	l := &sfLayout{id: -1, created: -1, errCol: -1}
	if cols == nil {
		l.data = newColumns(nil)
		return l, nil
	}
	for i, n := range cols.names {
		if !strings.HasPrefix(n, "sf__") {
			l.dataFrom = i
			break
		}
		l.dataFrom = i + 1
		switch n {
		case "sf__Id":
			l.id = i
		case "sf__Created":
			l.created = i
		case "sf__Error":
			l.errCol = i
		}
	}
	for _, n := range cols.names[l.dataFrom:] {
		if strings.HasPrefix(n, "sf__") {
			return nil, fmt.Errorf("salesforce: bulk result column %s is not among the leading sf__ columns", n)
		}
	}
	l.data = newColumns(cols.names[l.dataFrom:])
	return l, nil
}

func (l *sfLayout) dataRow(r Row) Row {
	return Row{cols: l.data, Values: r.Values[l.dataFrom:]}
}

func cell(r Row, i int) string {
	if i < 0 || i >= len(r.Values) {
		return ""
	}
	return r.Values[i]
}
