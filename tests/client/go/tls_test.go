package clienttest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sessiond/client/go/sessiond"
)

// startMTLSSessiond runs a sessiond that requires client certificates
// signed by the test CA.
func startMTLSSessiond(t *testing.T, certs testCerts) string {
	return startSessiondForTest(t, "--store=memory",
		"--tls_cert="+certs.path("server.pem"), "--tls_key="+certs.path("server.key"),
		"--tls_client_ca="+certs.path("ca.pem")).target
}

func TestMTLS(t *testing.T) {
	certs := makeTestCerts(t)
	target := startMTLSSessiond(t, certs)
	login := func(overrides func(*sessiond.TLSOptions)) sessiond.Options {
		tls := &sessiond.TLSOptions{RootCAsPEM: certs.pem("ca.pem"),
			CertPEM: certs.pem("login.pem"), KeyPEM: certs.pem("login.key")}
		if overrides != nil {
			overrides(tls)
		}
		// One attempt and a short deadline: refusals must come back fast.
		return sessiond.Options{Target: target, TLS: tls, Timeout: 3 * time.Second,
			Retry: sessiond.RetryOptions{MaxAttempts: 1}}
	}

	t.Run("round trip", func(t *testing.T) {
		roundTrip(t, newClient(t, login(nil)))
	})
	t.Run("server name given", func(t *testing.T) {
		roundTrip(t, newClient(t, login(func(tls *sessiond.TLSOptions) { tls.ServerName = "localhost" })))
	})

	refused := []struct {
		name      string
		overrides func(*sessiond.TLSOptions)
		plaintext bool
	}{
		{name: "no client certificate", overrides: func(tls *sessiond.TLSOptions) {
			tls.CertPEM, tls.KeyPEM = nil, nil
		}},
		{name: "client certificate from another CA", overrides: func(tls *sessiond.TLSOptions) {
			tls.CertPEM, tls.KeyPEM = certs.pem("rogue.pem"), certs.pem("rogue.key")
		}},
		{name: "server certificate not trusted", overrides: func(tls *sessiond.TLSOptions) {
			tls.RootCAsPEM = certs.pem("rogue-ca.pem")
		}},
		{name: "server name not in its certificate", overrides: func(tls *sessiond.TLSOptions) {
			tls.ServerName = "elsewhere.internal"
		}},
		{name: "plaintext", plaintext: true},
	}
	for _, test := range refused {
		test := test
		t.Run(test.name, func(t *testing.T) {
			options := login(test.overrides)
			if test.plaintext {
				options.TLS = nil
			}
			client := newClient(t, options)
			_, err := client.Validate(context.Background(), "sess_whatever")
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("Validate: %v, want UNAVAILABLE", err)
			}
		})
	}
}

func TestTLSOptionsThatCannotWork(t *testing.T) {
	certs := makeTestCerts(t)
	for name, tls := range map[string]*sessiond.TLSOptions{
		"certificate without key": {CertPEM: certs.pem("login.pem")},
		"key without certificate": {KeyPEM: certs.pem("login.key")},
		"key of another cert":     {CertPEM: certs.pem("login.pem"), KeyPEM: certs.pem("rogue.key")},
		"CA that is not PEM":      {RootCAsPEM: []byte("not a certificate")},
	} {
		if client, err := sessiond.New(sessiond.Options{TLS: tls}); err == nil {
			client.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
}
