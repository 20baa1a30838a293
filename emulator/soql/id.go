package soql

// ValidID reports whether s has the shape of a Salesforce Id: 15 or 18
// letters and digits.
func ValidID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// ID18 returns the 18-character form of a 15-character Id (appending the
// case checksum); other strings come back unchanged.
func ID18(s string) string {
	if len(s) != 15 {
		return s
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var suffix [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		n := 0
		for i := 0; i < 5; i++ {
			if c := s[chunk*5+i]; c >= 'A' && c <= 'Z' {
				n |= 1 << i
			}
		}
		suffix[chunk] = alphabet[n]
	}
	return s + string(suffix[:])
}
