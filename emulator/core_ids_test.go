package emulator

import "testing"

func TestIDChecksumVectors(t *testing.T) {
	// Vectors from salesforce-api.md §9.2 plus Ids seen in recorded responses.
	for _, tc := range []struct{ in, want string }{
		{"a0RE000000IJmcN", "a0RE000000IJmcNMAT"},
		{"001M000000qfPyS", "001M000000qfPySIAU"},
		{"aaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaAAA"},
		{"aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"},
		{"00QE000000Ft9Ah", "00QE000000Ft9AhMAJ"},
		{"003q000000KvQ1t", "003q000000KvQ1tAAF"},
		{"0013h00000Fz0Gz", "0013h00000Fz0GzAAJ"},
		{"005Hs00000BkK19", "005Hs00000BkK19IAF"},
	} {
		got, ok := normalizeID(tc.in)
		if !ok || got != tc.want {
			t.Errorf("normalizeID(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		// The 18-character form is case-insensitive.
		for _, variant := range []string{tc.want, lowerAll(tc.want), upperAll(tc.want)} {
			if got, ok := normalizeID(variant); !ok || got != tc.want {
				t.Errorf("normalizeID(%q) = %q, %v; want %q", variant, got, ok, tc.want)
			}
		}
	}
}

func TestNormalizeIDRejects(t *testing.T) {
	for _, s := range []string{"", "-1", "00Q", "00QE000000Ft9A", "00QE000000Ft9Ah!", "00QE000000Ft9AhMA", "00QE000000Ft9AhMAJX",
		"00QE000000Ft9Ah-AJ", "000000000000000Z99" /* suffix says a digit is upper case */} {
		if got, ok := normalizeID(s); ok {
			t.Errorf("normalizeID(%q) = %q, accepted", s, got)
		}
	}
}

func TestMintedIDs(t *testing.T) {
	e := newTestEmulator(t, Config{})
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := e.newIDLocked("00Q")
		if len(id) != 18 || id[:5] != "00Q5e" || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		if n, ok := normalizeID(id[:15]); !ok || n != id {
			t.Fatalf("checksum of %q: %q", id, n)
		}
		seen[id] = true
	}
	if e.org.adminID != "0055e0000000001AAA" {
		t.Errorf("admin id %s", e.org.adminID)
	}
}

func lowerAll(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}

func upperAll(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = upper(b[i])
	}
	return string(b)
}
