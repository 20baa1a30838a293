package soql

import "github.com/forcesync/forcesync/internal/sfid"

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
func ID18(s string) string { return sfid.ID18(s) }
