package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix marks the version of the sealed format. A future format gets a new
// prefix; Open keeps reading the old ones.
const prefix = "fs1."

const (
	keyIDSize = 4
	nonceSize = 12
	tagSize   = 16
)

// Errors returned by Open. They never include any part of the secret.
var (
	// ErrWrongKey: the value was sealed under a different key.
	ErrWrongKey = errors.New("secret: sealed with a different key")
	// ErrTampered: the value, or the context it was sealed with, does not
	// authenticate: it was altered, truncated or opened with the wrong context.
	ErrTampered = errors.New("secret: sealed value does not authenticate (altered or wrong context)")
	// ErrFormat: the text is not a sealed value of a known version.
	ErrFormat = errors.New("secret: not a sealed value")
)

// Key is a 256-bit sealing key. Its String method never shows the bytes, so
// a Key printed by mistake leaks nothing.
type Key struct {
	b [KeySize]byte
}

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k.b[:]); err != nil {
		return Key{}, fmt.Errorf("secret: generating key: %w", err)
	}
	return k, nil
}

// KeyFromBytes makes a key of exactly KeySize bytes.
func KeyFromBytes(b []byte) (Key, error) {
	var k Key
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("secret: key is %d bytes, want %d", len(b), KeySize)
	}
	copy(k.b[:], b)
	return k, nil
}

// ParseKey decodes a key written by Encode. Standard and URL base64 alphabets
// are both accepted, with or without padding, and surrounding white space is
// ignored (key files usually end in a newline).
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return KeyFromBytes(b)
		}
	}
	return Key{}, errors.New("secret: key is not base64")
}

// Encode returns the key as standard base64, the form ParseKey reads.
func (k Key) Encode() string { return base64.StdEncoding.EncodeToString(k.b[:]) }

// String hides the key.
func (k Key) String() string { return "secret.Key(redacted)" }

// GoString hides the key from %#v too.
func (k Key) GoString() string { return k.String() }

// IsZero reports whether k is the zero Key (never a usable key).
func (k Key) IsZero() bool { return k.b == [KeySize]byte{} }

// id is a short fingerprint of the key, stored in sealed values. Four bytes
// of a hash reveal nothing useful about 32 random bytes.
func (k Key) id() [keyIDSize]byte {
	h := sha256.New()
	h.Write([]byte("forcesync secret key id v1\x00"))
	h.Write(k.b[:])
	var out [keyIDSize]byte
	copy(out[:], h.Sum(nil))
	return out
}

func (k Key) aead() (cipher.AEAD, error) {
	if k.IsZero() {
		return nil, errors.New("secret: zero key")
	}
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// additional binds the format version and the caller's context into the
// GCM tag.
func additional(context string) []byte { return []byte(prefix + context) }

// Seal encrypts plaintext under key, binding context (which may be empty)
// as additional data. Every call uses a fresh random nonce, so sealing the
// same plaintext twice gives different text.
func Seal(key Key, plaintext []byte, context string) (string, error) {
	g, err := key.aead()
	if err != nil {
		return "", err
	}
	id := key.id()
	buf := make([]byte, keyIDSize+nonceSize, keyIDSize+nonceSize+len(plaintext)+tagSize)
	copy(buf, id[:])
	if _, err := rand.Read(buf[keyIDSize:]); err != nil {
		return "", fmt.Errorf("secret: generating nonce: %w", err)
	}
	buf = g.Seal(buf, buf[keyIDSize:keyIDSize+nonceSize], plaintext, additional(context))
	return prefix + base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open decrypts a value made by Seal with the same key and context. It
// returns ErrFormat, ErrWrongKey or ErrTampered; none of them carries any
// part of the value.
func Open(key Key, sealed string, context string) ([]byte, error) {
	g, err := key.aead()
	if err != nil {
		return nil, err
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrFormat
	}
	buf, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, ErrFormat
	}
	if len(buf) < keyIDSize+nonceSize+tagSize {
		return nil, ErrTampered
	}
	id := key.id()
	if subtle.ConstantTimeCompare(buf[:keyIDSize], id[:]) != 1 {
		return nil, ErrWrongKey
	}
	nonce := buf[keyIDSize : keyIDSize+nonceSize]
	out, err := g.Open(nil, nonce, buf[keyIDSize+nonceSize:], additional(context))
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// IsSealed reports whether s looks like a sealed value (has a known version
// prefix). It does not check that s opens.
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }
