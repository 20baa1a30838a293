package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// parseVerifyKey reads the RSA public key that verifies an app's JWT bearer
// assertions from PEM: a certificate (as uploaded to a connected app) or a
// bare public key.
func parseVerifyKey(pemText string) (*rsa.PublicKey, error) {
	rest := []byte(pemText)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM certificate or public key found")
		}
		var pub any
		switch b.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			pub = cert.PublicKey
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: %w", err)
			}
			pub = k
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: %w", err)
			}
			pub = k
		default:
			continue
		}
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("key is %T; JWT bearer needs an RSA key (RS256)", pub)
		}
		return k, nil
	}
}

// jwtClaims are the claims of a JWT bearer assertion the emulator reads.
type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp json.Number     `json:"exp"`
}

// audiences returns aud as a list (a string or an array of strings).
func (c *jwtClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Aud, &many)
	return many
}

// verifyRS256 checks a compact JWS signed with RS256 and returns its payload.
func verifyRS256(token string, key *rsa.PublicKey) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	if err != nil {
		return nil, errors.New("bad header encoding")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS256" {
		return nil, errors.New("header alg must be RS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return nil, errors.New("bad signature encoding")
	}
	if key == nil {
		return nil, errSignature
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return nil, errSignature
	}
	pb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errors.New("bad payload encoding")
	}
	return pb, nil
}

var errSignature = errors.New("signature does not verify")

// jwtPeekIssuer reads the iss claim without verifying (to find the app whose
// certificate verifies the rest).
func jwtPeekIssuer(token string) (string, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	pb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var c jwtClaims
	if json.Unmarshal(pb, &c) != nil {
		return "", false
	}
	return c.Iss, true
}

// jwtExpiry turns exp into a time. exp is epoch seconds; the sf CLI sends
// milliseconds, recognisable by their size (any seconds value that large is
// thousands of years away).
func jwtExpiry(n json.Number) (time.Time, bool) {
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return time.Time{}, false
	}
	if f > 1e11 {
		return time.UnixMilli(int64(f)), true
	}
	return time.Unix(int64(f), 0), true
}

// grantJWTLocked is the JWT bearer flow: an RS256 assertion signed with the
// key of the app's certificate, iss = client id, sub = username.
func (e *Emulator) grantJWTLocked(r *http.Request) (tokenResponse, *oauthError) {
	assertion := r.Form.Get("assertion")
	if assertion == "" {
		return tokenResponse{}, errRequest("assertion is missing")
	}
	iss, ok := jwtPeekIssuer(assertion)
	if !ok {
		return tokenResponse{}, errGrant("invalid assertion")
	}
	app := e.appLocked(iss)
	if app == nil {
		return tokenResponse{}, errInvalidClientID()
	}
	var key *rsa.PublicKey
	if k, ok := app.jwtKey.(*rsa.PublicKey); ok {
		key = k
	}
	payload, err := verifyRS256(assertion, key)
	if errors.Is(err, errSignature) {
		return tokenResponse{}, errInvalidClient()
	}
	if err != nil {
		return tokenResponse{}, errGrant("invalid assertion")
	}
	var cl jwtClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if dec.Decode(&cl) != nil {
		return tokenResponse{}, errGrant("invalid assertion")
	}
	if !e.audienceOK(r, cl.audiences()) {
		return tokenResponse{}, errGrant("audience is invalid")
	}
	exp, ok := jwtExpiry(cl.Exp)
	if !ok {
		return tokenResponse{}, errGrant("invalid assertion")
	}
	if !e.now().Before(exp) {
		return tokenResponse{}, errGrant("expired authorization code")
	}
	u := e.userByNameLocked(cl.Sub)
	if u == nil || !e.preAuthorizedLocked(app, u) {
		return tokenResponse{}, errGrant("user hasn't approved this consumer")
	}
	if !u.Active {
		return tokenResponse{}, &oauthError{"inactive_user", "user is inactive", http.StatusBadRequest}
	}
	return e.grantLocked(r, app, u, appScopesNoRefresh(r.Form.Get("scope")), false, false, "", true, ""), nil
}

// audienceOK accepts the login and test hosts and the emulator's own base
// URL, each with or without a trailing slash.
func (e *Emulator) audienceOK(r *http.Request, auds []string) bool {
	ok := []string{"https://login.salesforce.com", "https://test.salesforce.com", e.oauthBaseURL(r)}
	if e.cfg.BaseURL == "" {
		// Clients that reached the emulator by another loopback name count too.
		ok = append(ok, "http://"+r.Host, "https://"+r.Host)
	}
	for _, a := range auds {
		if slices.Contains(ok, strings.TrimRight(a, "/")) {
			return true
		}
	}
	return false
}

// preAuthorizedLocked reports whether u may use JWT bearer with app: every
// user when the app lists none, else the listed users and those who approved
// the app through the web flow.
func (e *Emulator) preAuthorizedLocked(app *oauthApp, u *oauthUser) bool {
	if len(app.PreAuthorized) == 0 {
		return true
	}
	for _, p := range app.PreAuthorized {
		if strings.EqualFold(p, u.Username) {
			return true
		}
	}
	return e.oauth.approved[u.ID+" "+app.ClientID]
}

// --- the emulator's own signing key (id_token, JWKS) --------------------------------

// signingKey signs id tokens; its public half is served at /id/keys.
type signingKey struct {
	key *rsa.PrivateKey
	kid string
}

// signer returns the org's signing key, generated on first use (RSA key
// generation takes a while, and most emulators never need one).
func (e *Emulator) signerKey() *signingKey {
	st := e.oauth
	st.signerOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		sum := sha256.Sum256(k.PublicKey.N.Bytes())
		st.signer = &signingKey{key: k, kid: base64.RawURLEncoding.EncodeToString(sum[:8])}
	})
	return st.signer
}

// signJWT builds an RS256 JWT of claims with the org's key.
func (e *Emulator) signJWT(claims map[string]any) string {
	sk := e.signerKey()
	hb, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": sk.kid, "typ": "JWT"})
	pb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, sk.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err) // only fails for keys too small for SHA-256, which ours is not
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// idToken is the OpenID Connect id_token of a session; nonce, when the
// authorize request sent one, is returned in it unchanged (OpenID Connect
// Core 3.1.3.6), which lets the client tie the token to its sign-in.
func (e *Emulator) idToken(r *http.Request, app *oauthApp, u *oauthUser, s *Session, nonce string) string {
	now := s.Issued
	claims := map[string]any{
		"iss":                e.oauthBaseURL(r),
		"sub":                e.identityURL(r, u.ID),
		"aud":                app.ClientID,
		"iat":                now.Unix(),
		"exp":                now.Add(5 * time.Minute).Unix(),
		"auth_time":          now.Unix(),
		"at_hash":            atHash(s.Token),
		"preferred_username": u.Username,
		"name":               u.displayName(),
		"given_name":         u.FirstName,
		"family_name":        u.LastName,
		"email":              u.Email,
		"email_verified":     true,
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return e.signJWT(claims)
}

// atHash is the OIDC at_hash of an access token: base64url of the left half
// of its SHA-256.
func atHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// serveJWKS is GET /id/keys: the public key that verifies id tokens.
func (e *Emulator) serveJWKS(c *call) {
	sk := e.signerKey()
	pub := sk.key.PublicKey
	writeOAuthJSON(c.w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"alg": "RS256",
		"use": "sig",
		"kid": sk.kid,
	}}})
}
