// Package csvcr keeps the carriage returns of quoted CSV values through
// encoding/csv, which turns every "\r\n" of its input into "\n" before it
// parses, inside quotes too: a multi-line value written on Windows
// ("line1\r\nline2") would reach Salesforce and the store changed.
//
// Wrap escapes, on the way into a csv.Reader, the bytes the reader would
// change: a "\r" inside a quoted value becomes NUL 'r', and every NUL of
// the input becomes NUL NUL, so an escape is never mistaken for data.
// Restore undoes it in the values of each record read. Row ends ("\n" or
// "\r\n") and everything outside quotes pass unchanged, so the reader
// still ends rows, counts lines and reports errors as it does; only the
// column of an error after an escaped byte on its line is off by one per
// escape.
//
// Wrap follows the reader's quoting rules (RFC 4180, no LazyQuotes): a
// field is quoted when its first byte is a double quote; inside, two
// double quotes stand for one, and the closing one must be followed by the
// delimiter or the row's end. After a quote the reader refuses (a bare
// one in an unquoted field, or a closing one followed by anything else)
// the reader drops the rest of the line, and so does Wrap's tracking: the
// next line starts a new row.
package csvcr

import (
	"bufio"
	"io"
	"strings"
)

// The states of Wrap's tracking.
const (
	fieldStart = iota // at the start of a field
	unquoted          // in an unquoted field
	refused           // the rest of a line the reader refused, which it drops
	quoted            // in a quoted field
	quoteSeen         // a double quote in a quoted field: its end, or the first of two
)

// escape is the byte that starts an escape: NUL, which text files do not
// carry (and which is doubled when they do).
const escape = 0

type wrapper struct {
	r     *bufio.Reader
	comma byte
	state int
	// plain marks the bytes that pass as they are and leave the tracking
	// where it is, in a field (not at its first byte, nor after a quote
	// inside it): [0] outside quotes, [1] inside.
	plain [2][256]bool
	// pending is the second byte of an escape that did not fit the
	// caller's buffer.
	pending    byte
	hasPending bool
}

// Wrap returns a reader of r's bytes with the carriage returns of quoted
// values and every NUL escaped, for a csv.Reader whose Comma is comma (a
// single-byte delimiter other than a double quote, "\r" or "\n"; Bulk API
// CSV only has those). Records read through it must go through Restore.
func Wrap(r io.Reader, comma byte) io.Reader {
	w := &wrapper{r: bufio.NewReaderSize(r, 64<<10), comma: comma}
	for c := range 256 {
		b := byte(c)
		special := b == '"' || b == escape || b == '\r'
		w.plain[1][c] = !special
		w.plain[0][c] = !special && b != comma && b != '\n'
	}
	return w
}

func (w *wrapper) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if w.hasPending {
			p[n] = w.pending
			w.hasPending = false
			n++
			continue
		}
		if w.r.Buffered() == 0 {
			if n > 0 {
				return n, nil // hand over what is ready rather than block for more
			}
			if _, err := w.r.Peek(1); err != nil {
				return n, err
			}
		}
		chunk, _ := w.r.Peek(w.r.Buffered()) // never blocks
		k := 0
		for k < len(chunk) && n < len(p) {
			// Bytes that change neither the tracking nor themselves go
			// over as a run.
			plain := &w.plain[0]
			if w.state == quoted {
				plain = &w.plain[1]
			}
			j := k
			// The byte at a field's start or after a quote inside one
			// decides what follows: never part of a run.
			for w.state != fieldStart && w.state != quoteSeen && j < len(chunk) && plain[chunk[j]] {
				j++
			}
			if j > k {
				m := copy(p[n:], chunk[k:j])
				n, k = n+m, k+m
				continue
			}
			b := chunk[k]
			last := false
			if b == '\r' && w.state == quoted && k == len(chunk)-1 {
				// Is it the input's last byte? Only more input tells.
				if k > 0 {
					break // after what came before it is handed over
				}
				next, err := w.r.Peek(2)
				last = len(next) < 2 && err != nil
			}
			out, second, two := w.step(b, last)
			k++
			p[n] = out
			n++
			if two {
				if n < len(p) {
					p[n] = second
					n++
				} else {
					w.pending, w.hasPending = second, true
				}
			}
		}
		w.r.Discard(k)
	}
	return n, nil
}

// step moves the tracking past b (last: the input's last byte) and
// returns what stands for it: one byte, or two when it is escaped.
func (w *wrapper) step(b byte, last bool) (out, second byte, two bool) {
	switch w.state {
	case fieldStart:
		switch b {
		case '"':
			w.state = quoted
		case w.comma, '\n':
			// an empty field; the next one starts here
		default:
			w.state = unquoted
		}
	case unquoted:
		switch b {
		case w.comma, '\n':
			w.state = fieldStart
		case '"':
			w.state = refused // a bare quote
		}
	case refused:
		if b == '\n' {
			w.state = fieldStart
		}
	case quoted:
		switch b {
		case '"':
			w.state = quoteSeen
		case '\r':
			if last {
				return b, 0, false // the input's last byte, which the reader drops
			}
			return escape, 'r', true
		}
	case quoteSeen:
		switch b {
		case '"':
			w.state = quoted // two quotes: one in the value
		case w.comma, '\n':
			w.state = fieldStart
		default:
			// Anything else after a closing quote is refused, and the rest
			// of the line dropped; a "\r" is the row's end when "\n"
			// follows: either way the next row starts after the "\n".
			w.state = refused
		}
	}
	if b == escape {
		return escape, escape, true
	}
	return b, 0, false
}

// Restore undoes Wrap's escapes in the values of rec, in place.
func Restore(rec []string) {
	for i, v := range rec {
		if strings.IndexByte(v, escape) >= 0 {
			rec[i] = restore(v)
		}
	}
}

func restore(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == escape && i+1 < len(v) {
			i++
			if v[i] == 'r' {
				c = '\r'
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
