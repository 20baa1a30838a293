package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestAdminHashPassword(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"admin", "hash-password"}, func(string) string { return "" },
		strings.NewReader("correct horse\n"), &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	h := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("correct horse")) != nil {
		t.Fatalf("hash %q does not match the password", h)
	}
	err = run(context.Background(), []string{"admin", "hash-password"}, func(string) string { return "" },
		strings.NewReader("short\n"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "shorter than 8") {
		t.Fatalf("short password: %v", err)
	}
}
