package soql

import "strings"

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString // text is the raw content between the quotes
	tNumber
	tDate
	tDateTime
	tLParen
	tRParen
	tComma
	tDot
	tColon
	tOp // = != <> < <= > >=
	tIllegal
)

// token is one lexeme. src is the token as written (quotes included), used
// in "unexpected token" messages; text is its value.
type token struct {
	kind tokKind
	pos  Pos
	src  string
	text string
}

// lexer splits a query into tokens on demand.
type lexer struct {
	src string
	i   int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isIdentChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_'
}
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// next returns the next token. Unterminated strings come back as tIllegal
// with the rest of the input as src.
func (l *lexer) next() token {
	for l.i < len(l.src) && isSpace(l.src[l.i]) {
		l.i++
	}
	start := l.i
	if l.i >= len(l.src) {
		return token{kind: tEOF, pos: Pos(start), src: "<EOF>"}
	}
	c := l.src[l.i]
	tok := func(k tokKind, n int) token {
		l.i += n
		s := l.src[start:l.i]
		return token{kind: k, pos: Pos(start), src: s, text: s}
	}
	switch {
	case isLetter(c) || c == '_':
		n := 1
		for start+n < len(l.src) && isIdentChar(l.src[start+n]) {
			n++
		}
		return tok(tIdent, n)
	case isDigit(c):
		if n := dateTimeLen(l.src[start:]); n > 0 {
			return tok(tDateTime, n)
		}
		if n := dateLen(l.src[start:]); n > 0 {
			return tok(tDate, n)
		}
		return tok(tNumber, numberLen(l.src[start:]))
	case (c == '-' || c == '+') && start+1 < len(l.src) && (isDigit(l.src[start+1]) || l.src[start+1] == '.' && start+2 < len(l.src) && isDigit(l.src[start+2])):
		return tok(tNumber, 1+numberLen(l.src[start+1:]))
	case c == '.' && start+1 < len(l.src) && isDigit(l.src[start+1]):
		return tok(tNumber, numberLen(l.src[start:]))
	case c == '\'':
		j := start + 1
		for j < len(l.src) {
			switch l.src[j] {
			case '\\':
				j += 2
				continue
			case '\'':
				l.i = j + 1
				return token{kind: tString, pos: Pos(start), src: l.src[start:l.i], text: l.src[start+1 : j]}
			}
			j++
		}
		l.i = len(l.src)
		return token{kind: tIllegal, pos: Pos(start), src: l.src[start:]}
	case c == '(':
		return tok(tLParen, 1)
	case c == ')':
		return tok(tRParen, 1)
	case c == ',':
		return tok(tComma, 1)
	case c == '.':
		return tok(tDot, 1)
	case c == ':':
		return tok(tColon, 1)
	case c == '=':
		return tok(tOp, 1)
	case c == '!':
		if strings.HasPrefix(l.src[start:], "!=") {
			return tok(tOp, 2)
		}
	case c == '<':
		if strings.HasPrefix(l.src[start:], "<=") || strings.HasPrefix(l.src[start:], "<>") {
			return tok(tOp, 2)
		}
		return tok(tOp, 1)
	case c == '>':
		if strings.HasPrefix(l.src[start:], ">=") {
			return tok(tOp, 2)
		}
		return tok(tOp, 1)
	}
	// One character (a whole UTF-8 sequence) that starts no token.
	n := 1
	for start+n < len(l.src) && l.src[start+n]&0xC0 == 0x80 {
		n++
	}
	return tok(tIllegal, n)
}

// numberLen measures digits with an optional fraction: 12, 12.5, .5, 12.
func numberLen(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	}
	return n
}

// digitsAt reports whether s[i:i+n] are all digits.
func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return false
		}
	}
	return true
}

// dateLen measures a date literal YYYY-MM-DD at the start of s.
func dateLen(s string) int {
	if digitsAt(s, 0, 4) && len(s) >= 10 && s[4] == '-' && digitsAt(s, 5, 2) && s[7] == '-' && digitsAt(s, 8, 2) {
		if len(s) > 10 && isIdentChar(s[10]) {
			return 0
		}
		return 10
	}
	return 0
}

// dateTimeLen measures YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm).
func dateTimeLen(s string) int {
	if dateLen(s[:min(len(s), 10)]) != 10 || len(s) < 20 {
		return 0
	}
	if s[10] != 'T' && s[10] != 't' || !digitsAt(s, 11, 2) || s[13] != ':' || !digitsAt(s, 14, 2) || s[16] != ':' || !digitsAt(s, 17, 2) {
		return 0
	}
	n := 19
	if n < len(s) && s[n] == '.' {
		k := n + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == n+1 {
			return 0
		}
		n = k
	}
	if n >= len(s) {
		return 0
	}
	switch s[n] {
	case 'Z', 'z':
		n++
	case '+', '-':
		if !digitsAt(s, n+1, 2) || n+3 >= len(s) || s[n+3] != ':' || !digitsAt(s, n+4, 2) {
			return 0
		}
		n += 6
	default:
		return 0
	}
	if n < len(s) && isIdentChar(s[n]) {
		return 0
	}
	return n
}
