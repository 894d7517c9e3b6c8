// Package sessiond is a small Go client for sessiond
// (session.v1.SessionService): a Client with context-aware calls, a default
// deadline, TLS/mTLS, safe retries, and net/http middleware that checks the
// session cookie.
//
// The session.v1 messages come from stubs generated from
// protos/session/v1/session.proto (import path sessiond/gen/session/v1,
// package sessionv1); client/go/make-gopath generates them. See
// client/go/README.md.
//
// Example:
//
//	client, err := sessiond.New(sessiond.Options{Target: "127.0.0.1:50051"})
//	if err != nil { ... }
//	defer client.Close()
//	created, err := client.Create(ctx, &sessionv1.CreateSessionRequest{Subject: "alice"})
//	verdict, err := client.Validate(ctx, created.GetToken())
//	if err != nil { ... }          // sessiond unreachable: 503, not a logout
//	if !verdict.GetValid() { ... } // log in again
package sessiond
