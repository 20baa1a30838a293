package salesforce

import "testing"

func TestID18(t *testing.T) {
	for in, want := range map[string]string{
		"a0RE000000IJmcN": "a0RE000000IJmcNMAT", "001M000000qfPyS": "001M000000qfPySIAU",
		"aaaaaaaaaaaaaaa": "aaaaaaaaaaaaaaaAAA", "aBcDEfgHIJKLMNO": "aBcDEfgHIJKLMNO025",
		"001M000000qfPySIAU": "001M000000qfPySIAU", "": "",
	} {
		if got := ID18(in); got != want {
			t.Errorf("ID18(%q) = %q, want %q", in, got, want)
		}
	}
}
