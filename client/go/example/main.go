// Command example logs a user in, checks the session, logs out and checks
// again, printing what a backend would see at each step. It never prints the
// secret token.
//
// Usage: example [-target host:port] [-ca ca.pem [-cert c.pem -key c.key]]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	"sessiond/client/go/sessiond"
	sessionv1 "sessiond/gen/session/v1"
)

func main() {
	target := flag.String("target", "127.0.0.1:50051", "sessiond's address")
	ca := flag.String("ca", "", "CA certificate (PEM) that signed sessiond's: turns on TLS")
	cert := flag.String("cert", "", "client certificate (PEM) for mTLS")
	key := flag.String("key", "", "private key (PEM) of -cert")
	flag.Parse()

	options := sessiond.Options{Target: *target}
	if *ca != "" {
		options.TLS = &sessiond.TLSOptions{
			RootCAsPEM: mustRead(*ca), CertPEM: mustRead(*cert), KeyPEM: mustRead(*key)}
	}
	client, err := sessiond.New(options)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx := context.Background()

	created, err := client.Create(ctx, &sessionv1.CreateSessionRequest{
		Subject: "alice", Attributes: map[string]string{"role": "admin"}})
	if err != nil {
		log.Fatalf("login: %v", err)
	}
	fmt.Printf("login:    session %s for %s\n", created.GetSession().GetId(), created.GetSession().GetSubject())

	verdict, err := client.Validate(ctx, created.GetToken())
	if err != nil {
		log.Fatalf("validate: %v", err)
	}
	fmt.Printf("validate: valid=%t subject=%s role=%s\n", verdict.GetValid(),
		verdict.GetSession().GetSubject(), verdict.GetSession().GetAttributes()["role"])

	revoked, err := client.Revoke(ctx, created.GetToken())
	if err != nil {
		log.Fatalf("logout: %v", err)
	}
	fmt.Printf("logout:   revoked=%t Set-Cookie: %s\n", revoked.GetRevoked(), revoked.GetClearCookieHeader())

	verdict, err = client.Validate(ctx, created.GetToken())
	if err != nil {
		log.Fatalf("validate: %v", err)
	}
	fmt.Printf("validate: valid=%t reason=%s\n", verdict.GetValid(), verdict.GetReason())
}

// mustRead returns a file's contents; an empty name gives nil (not set).
func mustRead(path string) []byte {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	return data
}
