package emulator

import (
	"strings"
)

// Salesforce record Ids are 15 case-sensitive characters (3-character key
// prefix, then pod and counter) plus, in the 18-character form, a 3-character
// suffix that encodes the case of the first 15 so the Id survives
// case-insensitive systems. The API always returns 18 characters and accepts
// either form.

const idSuffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// idChecksum returns the 3-character suffix of a 15-character Id: for each
// chunk of 5 characters, bit i (left to right, weight 1<<i) is set when
// character i is an upper-case letter.
func idChecksum(id15 string) string {
	out := checksumOf(id15)
	return string(out[:])
}

// checksumOf computes the 3-character suffix of an Id's first 15 characters.
func checksumOf[T string | []byte](id15 T) [3]byte {
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		out[chunk] = idSuffixAlphabet[n]
	}
	return out
}

func isIDChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// normalizeID returns the canonical 18-character form of a 15- or
// 18-character Id. An 18-character Id is case-insensitive: its suffix
// restores the case of the first 15 characters. ok is false for anything
// that is not a well-formed Id (Salesforce answers MALFORMED_ID).
func normalizeID(s string) (string, bool) {
	switch len(s) {
	case 15:
		for i := 0; i < 15; i++ {
			if !isIDChar(s[i]) {
				return "", false
			}
		}
		return s + idChecksum(s), true
	case 18:
		b := []byte(s[:15])
		for i := 0; i < 15; i++ {
			if !isIDChar(b[i]) {
				return "", false
			}
		}
		for chunk := 0; chunk < 3; chunk++ {
			n := strings.IndexByte(idSuffixAlphabet, upper(s[15+chunk]))
			if n < 0 {
				return "", false
			}
			for i := 0; i < 5; i++ {
				p := chunk*5 + i
				c := b[p]
				isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
				if n&(1<<i) != 0 {
					if !isLetter {
						return "", false
					}
					b[p] = upper(c)
				} else if isLetter {
					b[p] = lower(c)
				}
			}
		}
		id15 := string(b)
		return id15 + idChecksum(id15), true
	}
	return "", false
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

// looksLikeID reports whether s is shaped like a 15- or 18-character Id.
func looksLikeID(s string) bool {
	_, ok := normalizeID(s)
	return ok
}

// newIDLocked mints the next 18-character Id for a key prefix: prefix (3),
// the org's pod (2 characters), a zero-padded base-62 counter (10), checksum.
// The counter is org-wide and never reused, even after a rollback, as
// Salesforce never reuses Ids.
func (e *Emulator) newIDLocked(prefix string) string {
	o := e.org
	o.nextID++
	n := o.nextID
	// Built in one buffer: the only allocation is the Id itself.
	var buf [18]byte
	id := append(append(buf[:0], prefix...), o.pod...)
	var ctr [10]byte
	for i := 9; i >= 0; i-- {
		ctr[i] = base62[n%62]
		n /= 62
	}
	id = append(id, ctr[:]...)
	sum := checksumOf(id)
	return string(append(id, sum[:]...))
}
