package salesforce

// ID18 returns the 18-character form of a 15-character Id: the Id with a
// three-character suffix that encodes which of its letters are upper
// case, so the long form compares without case. Other strings come back
// unchanged.
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
