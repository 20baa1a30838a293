package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoopbackTLS(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "emulator.pem")
	now := time.Now()
	cfg, err := LoopbackTLS(certFile, now)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()

	// A client trusting only the written PEM reaches the emulator at 127.0.0.1.
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("cert file holds no PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("TLS GET: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	leaf := cfg.Certificates[0].Leaf
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	if d := leaf.NotAfter.Sub(now); d < 364*24*time.Hour || d > 367*24*time.Hour {
		t.Errorf("valid for %v, want a year", d)
	}
	// Issuer in https mode is the https base URL.
	if want := `"issuer":"` + srv.URL + `"`; !strings.Contains(string(body), want) {
		t.Errorf("discovery %s lacks %s", body, want)
	}
}
