package sessiond

import (
	"context"

	"google.golang.org/grpc"

	sessionv1 "sessiond/gen/session/v1"
)

// Client calls sessiond's session.v1.SessionService over one gRPC channel.
// Each call gets Options.Timeout as its deadline unless the caller's context
// ends sooner, and calls that are safe to repeat are retried on UNAVAILABLE
// (retry.go). Failed calls return gRPC status errors: status.Code(err) gives
// the canonical code. An invalid session is not an error: Validate answers
// with Valid false and a Reason.
//
// A Client is safe for concurrent use; make one per process and share it.
type Client struct {
	options Options
	conn    *grpc.ClientConn
	stub    sessionv1.SessionServiceClient
}

// New checks options and sets up the channel. It does not wait for a
// connection: a server that is down is reported by calls (UNAVAILABLE), not
// here.
func New(options Options) (*Client, error) {
	options, err := options.withDefaults()
	if err != nil {
		return nil, err
	}
	transport, err := transportOption(options.TLS)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.Dial(options.Target, transport,
		grpc.WithUserAgent("sessiond-client-go"),
		grpc.WithUnaryInterceptor(newRetrier(options.Retry).intercept))
	if err != nil {
		return nil, err
	}
	return &Client{options: options, conn: conn, stub: sessionv1.NewSessionServiceClient(conn)}, nil
}

// Close releases the channel. Calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the channel, for other services sessiond serves on it
// (grpc.health.v1).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// withDeadline bounds a call by Options.Timeout; a caller's earlier deadline
// still wins.
func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.options.Timeout)
}

// Create starts a session; the response holds its token and cookie, which
// sessiond shows only here. Retried on UNAVAILABLE only when the request
// carries a RequestId.
func (c *Client) Create(ctx context.Context, request *sessionv1.CreateSessionRequest) (*sessionv1.CreateSessionResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.CreateSession(ctx, request)
}

// Validate checks a token (e.g. a cookie's value).
func (c *Client) Validate(ctx context.Context, token string) (*sessionv1.ValidateSessionResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.ValidateSession(ctx, &sessionv1.ValidateSessionRequest{Token: token})
}

// Revoke ends the session of token (logout). The response's
// ClearCookieHeader is ready for a Set-Cookie header.
func (c *Client) Revoke(ctx context.Context, token string) (*sessionv1.RevokeSessionResponse, error) {
	return c.revoke(ctx, &sessionv1.RevokeSessionRequest{
		Target: &sessionv1.RevokeSessionRequest_Token{Token: token}})
}

// RevokeID ends a session named by its public id (an admin page, "my
// devices").
func (c *Client) RevokeID(ctx context.Context, sessionID string) (*sessionv1.RevokeSessionResponse, error) {
	return c.revoke(ctx, &sessionv1.RevokeSessionRequest{
		Target: &sessionv1.RevokeSessionRequest_SessionId{SessionId: sessionID}})
}

func (c *Client) revoke(ctx context.Context, request *sessionv1.RevokeSessionRequest) (*sessionv1.RevokeSessionResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.RevokeSession(ctx, request)
}

// Rotate issues a new token for the session and kills the old one. Never
// retried; NOT_FOUND when the token is not live.
func (c *Client) Rotate(ctx context.Context, request *sessionv1.RotateSessionRequest) (*sessionv1.RotateSessionResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.RotateSession(ctx, request)
}

// RevokeSubject ends every session of subject except exceptSessionID (empty:
// none is kept).
func (c *Client) RevokeSubject(ctx context.Context, subject, exceptSessionID string) (*sessionv1.RevokeSubjectSessionsResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.RevokeSubjectSessions(ctx, &sessionv1.RevokeSubjectSessionsRequest{
		Subject: subject, ExceptSessionId: exceptSessionID})
}

// List returns one page of a subject's live sessions, newest first.
func (c *Client) List(ctx context.Context, request *sessionv1.ListSessionsRequest) (*sessionv1.ListSessionsResponse, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	return c.stub.ListSessions(ctx, request)
}
