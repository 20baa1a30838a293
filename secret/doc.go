// Package secret seals small secrets (refresh tokens, client secrets, access
// tokens) with AES-256-GCM so they can rest in a connection file on disk.
//
// A sealed value is text: "fs1." followed by base64url (no padding) of
//
//	key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag
//
// The key id is derived from the key by SHA-256, so Open can tell a value
// sealed under another key (ErrWrongKey) from a value that was altered
// (ErrTampered) without trying to decrypt. The nonce is random for every
// Seal. An optional context string is bound to the value as GCM additional
// data: a secret sealed as "prod/refresh_token" cannot be replayed as
// "prod/client_secret".
//
// The package reads no files and no environment; where the key lives is the
// caller's business (cmd/forcesync keeps it in a 0600 file or an env var).
package secret
