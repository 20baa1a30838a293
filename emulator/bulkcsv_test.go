package emulator

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// refCSVScanner is the scanner as it was before records shared one string:
// a string per field. The fuzz test below holds the new one to it.
type refCSVScanner struct {
	data  []byte
	pos   int
	delim byte
	crlf  bool
	line  int
	buf   []byte
}

func (s *refCSVScanner) next(fields []string) (out []string, start, end int, ok bool, err error) {
	out = fields[:0]
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
		return out, 0, 0, false, nil
	}
	s.line++
	start = s.pos
	d := s.data
	i := s.pos
	for {
		// One field starting at i.
		if i < len(d) && d[i] == '"' {
			s.buf = s.buf[:0]
			i++
			for {
				j := bytes.IndexByte(d[i:], '"')
				if j < 0 {
					return out, 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Unterminated quoted field starting at line %d", s.line)}
				}
				s.buf = append(s.buf, d[i:i+j]...)
				i += j + 1
				if i < len(d) && d[i] == '"' { // doubled quote
					s.buf = append(s.buf, '"')
					i++
					continue
				}
				break
			}
			out = append(out, string(s.buf))
			if i < len(d) && d[i] != s.delim && d[i] != '\n' && d[i] != '\r' {
				return out, 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Invalid quoted field at line %d: a closing quote must be followed by a delimiter or a line ending", s.line)}
			}
		} else {
			j := i
			for j < len(d) && d[j] != s.delim && d[j] != '\n' {
				j++
			}
			v := d[i:j]
			i = j
			if j < len(d) && d[j] == '\n' && len(v) > 0 && v[len(v)-1] == '\r' {
				// The record ends in CRLF: leave i on the CR.
				v = v[:len(v)-1]
				i = j - 1
			}
			out = append(out, string(v))
		}
		if i >= len(d) {
			s.pos = i
			return out, start, i, true, nil
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
					return out, 0, 0, false, &csvError{fmt.Sprintf("ClientInputError : Invalid line ending at line %d", s.line)}
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
				return out, 0, 0, false, &csvError{"ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is " + name}
			}
			s.pos = i
			return out, start, end, true, nil
		}
	}
}

// FuzzBulkCSVScannerMatchesReference wants the same fields, spans, line
// numbers and errors from next as from the reference, and the same field
// counts and spans from skip.
func FuzzBulkCSVScannerMatchesReference(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\xef\xbb\xbfx\r\n\"q,\"\"\r\n\"\r\n", "\"open", "a\rb\n", "\n\n,\n",
		"\"a\"b,c\n", "\"\"\"\",\"a\"\"\"\n", "a,\"b\nc\",d\r\n", "x\r\n\r\ny\r\n"} {
		f.Add(s, byte(','), false)
		f.Add(s, byte('\t'), true)
	}
	f.Fuzz(func(t *testing.T, data string, delim byte, crlf bool) {
		if delim == '"' || delim == '\n' || delim == '\r' {
			delim = ','
		}
		sc := newCSVScanner([]byte(data), delim, crlf)
		sk := newCSVScanner([]byte(data), delim, crlf)
		ref := &refCSVScanner{data: []byte(data), pos: sc.pos, delim: delim, crlf: crlf}
		var fields, want []string
		for i := 0; i < len(data)+2; i++ {
			var s, e, ws, we int
			var ok, wok bool
			var err, werr error
			fields, s, e, ok, err = sc.next(fields)
			want, ws, we, wok, werr = ref.next(want)
			n, ks, ke, kok, kerr := sk.skip()
			if fmt.Sprint(err) != fmt.Sprint(werr) || fmt.Sprint(kerr) != fmt.Sprint(werr) {
				t.Fatalf("%q: errors %v / %v, want %v", data, err, kerr, werr)
			}
			if werr != nil || !wok {
				if ok || kok {
					t.Fatalf("%q: a record after the end", data)
				}
				return
			}
			if !ok || s != ws || e != we || !slices.Equal(fields, want) || sc.line != ref.line {
				t.Fatalf("%q: record %q [%d,%d) line %d, want %q [%d,%d) line %d", data, fields, s, e, sc.line, want, ws, we, ref.line)
			}
			if !kok || n != len(want) || ks != ws || ke != we {
				t.Fatalf("%q: skip %d [%d,%d), want %d [%d,%d)", data, n, ks, ke, len(want), ws, we)
			}
		}
		t.Fatalf("scanner did not finish %q", data)
	})
}
