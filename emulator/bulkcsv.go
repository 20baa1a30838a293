package emulator

import (
	"bytes"
	"fmt"
	"strings"
)

// Bulk API 2.0 CSV dialect: RFC 4180 quoting with a per-job column delimiter
// and line ending. The scanner below works on the uploaded bytes in place and
// reports each record's byte span, so result files can repeat a row's
// original text without keeping a parsed copy of every row.

// bulkDelimiters maps the columnDelimiter names Salesforce accepts to bytes.
var bulkDelimiters = map[string]byte{
	"COMMA":     ',',
	"TAB":       '\t',
	"PIPE":      '|',
	"SEMICOLON": ';',
	"CARET":     '^',
	"BACKQUOTE": '`',
}

// bulkLineEndings maps the lineEnding names Salesforce accepts to text.
var bulkLineEndings = map[string]string{
	"LF":   "\n",
	"CRLF": "\r\n",
}

// csvScanner reads records from CSV bytes. It is not safe for concurrent use.
type csvScanner struct {
	data  []byte
	pos   int
	delim byte
	crlf  bool // the job declared CRLF line endings
	line  int  // 1-based line number of the record last read
	buf   []byte
	// spans are the fields of the record last read, as offsets in data.
	spans []csvSpan
}

// csvSpan is one field of a record: its text is data[start:end], with
// doubled quotes still doubled when escaped is set.
type csvSpan struct {
	start, end int
	escaped    bool
}

// csvError is a parse failure that fails the whole job; msg is the job's
// errorMessage.
type csvError struct{ msg string }

func (e *csvError) Error() string { return e.msg }

// newCSVScanner scans data (a leading UTF-8 byte-order mark is skipped).
func newCSVScanner(data []byte, delim byte, crlf bool) *csvScanner {
	s := &csvScanner{data: data, delim: delim, crlf: crlf}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		s.pos = 3
	}
	return s
}

// next reads one record into fields (reusing its storage) and returns the
// record's span [start, end) in data, without its line terminator. Blank
// lines are skipped. ok is false at the end of the data.
//
// The fields share one string holding the record's text (a field with
// doubled quotes gets a string of its own), so a record costs one
// allocation however many fields it has; a field kept after the call keeps
// its record's text alive.
func (s *csvScanner) next(fields []string) (out []string, start, end int, ok bool, err error) {
	out = fields[:0]
	start, end, ok, err = s.scan()
	if !ok || err != nil {
		return out, start, end, ok, err
	}
	text := string(s.data[start:end])
	for _, sp := range s.spans {
		if !sp.escaped {
			out = append(out, text[sp.start-start:sp.end-start])
			continue
		}
		s.buf = s.buf[:0]
		v := s.data[sp.start:sp.end]
		for {
			i := bytes.IndexByte(v, '"')
			if i < 0 {
				break
			}
			s.buf = append(s.buf, v[:i+1]...)
			v = v[i+2:] // skip the second quote of the pair
		}
		s.buf = append(s.buf, v...)
		out = append(out, string(s.buf))
	}
	return out, start, end, true, nil
}

// skip reads one record like next but keeps no text: it returns the
// record's field count and span.
func (s *csvScanner) skip() (n, start, end int, ok bool, err error) {
	start, end, ok, err = s.scan()
	return len(s.spans), start, end, ok, err
}

// scan reads one record into s.spans and returns its span in data.
func (s *csvScanner) scan() (start, end int, ok bool, err error) {
	s.spans = s.spans[:0]
	// Skip blank lines (a trailing newline, or an empty line between records).
	for s.pos < len(s.data) {
		switch {
		case s.data[s.pos] == '\n':
			s.pos++
			s.line++
			continue
		case s.data[s.pos] == '\r' && s.pos+1 < len(s.data) && s.data[s.pos+1] == '\n':
			s.pos += 2
			s.line++
			continue
		}
		break
	}
	if s.pos >= len(s.data) {
		return 0, 0, false, nil
	}
	s.line++
	start = s.pos
	d := s.data
	i := s.pos
	for {
		// One field starting at i.
		if i < len(d) && d[i] == '"' {
			i++
			sp := csvSpan{start: i}
			for {
				j := bytes.IndexByte(d[i:], '"')
				if j < 0 {
					return 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Unterminated quoted field starting at line %d", s.line)}
				}
				i += j + 1
				if i < len(d) && d[i] == '"' { // doubled quote
					sp.escaped = true
					i++
					continue
				}
				break
			}
			sp.end = i - 1
			s.spans = append(s.spans, sp)
			if i < len(d) && d[i] != s.delim && d[i] != '\n' && d[i] != '\r' {
				return 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Invalid quoted field at line %d: a closing quote must be followed by a delimiter or a line ending", s.line)}
			}
		} else {
			j := i
			for j < len(d) && d[j] != s.delim && d[j] != '\n' {
				j++
			}
			sp := csvSpan{start: i, end: j}
			i = j
			if j < len(d) && d[j] == '\n' && j > sp.start && d[j-1] == '\r' {
				// The record ends in CRLF: leave i on the CR.
				sp.end = j - 1
				i = j - 1
			}
			s.spans = append(s.spans, sp)
		}
		if i >= len(d) {
			s.pos = i
			return start, i, true, nil
		}
		switch d[i] {
		case s.delim:
			i++
			continue
		case '\r', '\n':
			crlf := d[i] == '\r'
			end = i
			if crlf {
				if i+1 >= len(d) || d[i+1] != '\n' {
					return 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Invalid line ending at line %d", s.line)}
				}
				i += 2
			} else {
				i++
			}
			if crlf != s.crlf {
				// Salesforce refuses data whose line endings differ from the job's.
				name := "LF"
				if s.crlf {
					name = "CRLF"
				}
				return 0, 0, false, &csvError{"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is " + name}
			}
			s.pos = i
			return start, end, true, nil
		}
	}
}

// bulkQuote appends v quoted (always), doubling inner quotes, as Salesforce
// writes the sf__ columns of result files.
func bulkQuote(b []byte, v string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexByte(v, '"')
		if i < 0 {
			break
		}
		b = append(b, v[:i+1]...)
		b = append(b, '"')
		v = v[i+1:]
	}
	b = append(b, v...)
	return append(b, '"')
}
