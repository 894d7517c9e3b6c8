package sessiond

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// transportOption turns TLSOptions into the dial option for the channel:
// plaintext when tlsOptions is nil, TLS otherwise. Broken PEM is an error
// here rather than a handshake failure on the first call.
func transportOption(tlsOptions *TLSOptions) (grpc.DialOption, error) {
	if tlsOptions == nil {
		// grpc-go 1.33 (Debian 12) has no credentials/insecure package.
		return grpc.WithInsecure(), nil
	}
	config := &tls.Config{
		ServerName: tlsOptions.ServerName,
		MinVersion: tls.VersionTLS12,
	}
	if len(tlsOptions.RootCAsPEM) > 0 {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(tlsOptions.RootCAsPEM) {
			return nil, errors.New("sessiond: TLS.RootCAsPEM holds no PEM certificate")
		}
		config.RootCAs = roots
	}
	if (len(tlsOptions.CertPEM) == 0) != (len(tlsOptions.KeyPEM) == 0) {
		return nil, errors.New("sessiond: a client certificate and its private key go together: give both or neither")
	}
	if len(tlsOptions.CertPEM) > 0 {
		pair, err := tls.X509KeyPair(tlsOptions.CertPEM, tlsOptions.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("sessiond: client certificate: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config)), nil
}
