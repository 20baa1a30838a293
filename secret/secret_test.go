package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustKey(t *testing.T) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKey(t)
	for _, pt := range [][]byte{nil, []byte("x"), []byte("5Aep861TSESvWeug_ztpnAk6BGQxRdovMLhHso81QL2nF.example!refresh"), bytes.Repeat([]byte{0, 255}, 4096)} {
		s, err := Seal(k, pt, "default/refresh_token")
		if err != nil {
			t.Fatal(err)
		}
		if !IsSealed(s) || !strings.HasPrefix(s, "fs1.") {
			t.Fatalf("sealed value %q lacks the version prefix", s)
		}
		if len(pt) > 4 && strings.Contains(s, string(pt)) {
			t.Fatal("plaintext visible in sealed value")
		}
		got, err := Open(k, s, "default/refresh_token")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("round trip: got %q want %q", got, pt)
		}
	}
}

func TestSealUsesFreshNonce(t *testing.T) {
	k := mustKey(t)
	a, _ := Seal(k, []byte("same"), "")
	b, _ := Seal(k, []byte("same"), "")
	if a == b {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestOpenWrongKey(t *testing.T) {
	s, _ := Seal(mustKey(t), []byte("token"), "c")
	_, err := Open(mustKey(t), s, "c")
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("got %v, want ErrWrongKey", err)
	}
}

func TestOpenWrongContext(t *testing.T) {
	k := mustKey(t)
	s, _ := Seal(k, []byte("token"), "prod/refresh_token")
	if _, err := Open(k, s, "prod/client_secret"); !errors.Is(err, ErrTampered) {
		t.Fatalf("got %v, want ErrTampered", err)
	}
}

func TestOpenDetectsTampering(t *testing.T) {
	k := mustKey(t)
	s, _ := Seal(k, []byte("a refresh token of some length"), "ctx")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, prefix))
	if err != nil {
		t.Fatal(err)
	}
	// Flip one bit in every byte after the key id in turn: nonce, ciphertext, tag.
	for i := keyIDSize; i < len(raw); i++ {
		mod := bytes.Clone(raw)
		mod[i] ^= 0x01
		if _, err := Open(k, prefix+base64.RawURLEncoding.EncodeToString(mod), "ctx"); !errors.Is(err, ErrTampered) {
			t.Fatalf("byte %d flipped: got %v, want ErrTampered", i, err)
		}
	}
	// Truncations.
	for _, n := range []int{0, keyIDSize, keyIDSize + nonceSize, len(raw) - 1} {
		_, err := Open(k, prefix+base64.RawURLEncoding.EncodeToString(raw[:n]), "ctx")
		if err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
}

func TestOpenBadFormat(t *testing.T) {
	k := mustKey(t)
	for _, s := range []string{"", "plain", "fs2.AAAA", "fs1.***", "fs1"} {
		if _, err := Open(k, s, ""); !errors.Is(err, ErrFormat) {
			t.Errorf("Open(%q): got %v, want ErrFormat", s, err)
		}
	}
}

func TestZeroKeyRefused(t *testing.T) {
	if _, err := Seal(Key{}, []byte("x"), ""); err == nil {
		t.Fatal("Seal with zero key succeeded")
	}
}

func TestKeyEncodeParse(t *testing.T) {
	k := mustKey(t)
	enc := k.Encode()
	for _, s := range []string{enc, enc + "\n", "  " + strings.TrimRight(enc, "="), strings.NewReplacer("+", "-", "/", "_").Replace(enc)} {
		got, err := ParseKey(s)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", s, err)
		}
		if got != k {
			t.Fatalf("ParseKey(%q) gave another key", s)
		}
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k := mustKey(t)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, k.Encode()) || strings.Contains(s, fmt.Sprint(k.b[0:4])) {
			t.Fatalf("key bytes printed: %s", s)
		}
	}
}

func FuzzOpen(f *testing.F) {
	var kb [KeySize]byte
	kb[0] = 1
	k, _ := KeyFromBytes(kb[:])
	s, _ := Seal(k, []byte("seed"), "")
	f.Add(s)
	f.Add("fs1.")
	f.Fuzz(func(t *testing.T, in string) {
		if pt, err := Open(k, in, ""); err == nil && in != s {
			// Only a genuine seal opens; re-seal must round trip.
			s2, _ := Seal(k, pt, "")
			if _, err := Open(k, s2, ""); err != nil {
				t.Fatal(err)
			}
		}
	})
}
