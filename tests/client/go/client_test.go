package clienttest

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sessiond/client/go/sessiond"
	sessionv1 "sessiond/gen/session/v1"
)

// newClient connects to target with options, closed at the test's end.
func newClient(t *testing.T, options sessiond.Options) *sessiond.Client {
	t.Helper()
	client, err := sessiond.New(options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// roundTrip is a login's whole life: create, validate, rotate, the old token
// reported as reused, revoke, and the session gone.
func roundTrip(t *testing.T, client *sessiond.Client) {
	t.Helper()
	ctx := context.Background()
	created, err := client.Create(ctx, &sessionv1.CreateSessionRequest{
		Subject: uniqueSubject(t), Attributes: map[string]string{"role": "admin"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(created.GetToken(), "sess_") ||
		created.GetCookie().GetName() != sessiond.DefaultCookieName {
		t.Fatalf("Create answered %v", created)
	}

	verdict, err := client.Validate(ctx, created.GetToken())
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !verdict.GetValid() || verdict.GetSession().GetSubject() != uniqueSubject(t) ||
		verdict.GetSession().GetAttributes()["role"] != "admin" {
		t.Fatalf("Validate of a new session answered %v", verdict)
	}

	rotated, err := client.Rotate(ctx, &sessionv1.RotateSessionRequest{Token: created.GetToken()})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if rotated.GetSession().GetId() != created.GetSession().GetId() ||
		rotated.GetToken() == created.GetToken() {
		t.Fatalf("Rotate answered %v", rotated)
	}
	expectInvalid(t, client, created.GetToken(), sessionv1.InvalidReason_INVALID_REASON_REUSED)

	revoked, err := client.Revoke(ctx, rotated.GetToken())
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if !revoked.GetRevoked() || !strings.Contains(revoked.GetClearCookieHeader(), "Max-Age=0") {
		t.Fatalf("Revoke answered %v", revoked)
	}
	expectInvalid(t, client, rotated.GetToken(), sessionv1.InvalidReason_INVALID_REASON_UNKNOWN)
}

func expectInvalid(t *testing.T, client *sessiond.Client, token string, reason sessionv1.InvalidReason) {
	t.Helper()
	verdict, err := client.Validate(context.Background(), token)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if verdict.GetValid() || verdict.GetReason() != reason {
		t.Fatalf("Validate answered %v, want invalid with %v", verdict, reason)
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, newClient(t, sessiond.Options{Target: plainTarget}))
}

func TestListRevokeIDAndRevokeSubject(t *testing.T) {
	client := newClient(t, sessiond.Options{Target: plainTarget})
	ctx := context.Background()
	subject := uniqueSubject(t)
	var ids []string
	for i := 0; i < 3; i++ {
		created, err := client.Create(ctx, &sessionv1.CreateSessionRequest{Subject: subject})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		ids = append(ids, created.GetSession().GetId())
	}

	page, err := client.List(ctx, &sessionv1.ListSessionsRequest{Subject: subject, PageSize: 2})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.GetSessions()) != 2 || page.GetNextPageToken() == "" {
		t.Fatalf("first page of 2 of 3: %v", page)
	}

	revoked, err := client.RevokeID(ctx, ids[0])
	if err != nil || !revoked.GetRevoked() {
		t.Fatalf("RevokeID: %v, %v", revoked, err)
	}
	// Keep ids[1]: one of the three is revoked already, so one more ends.
	subjectRevoked, err := client.RevokeSubject(ctx, subject, ids[1])
	if err != nil || subjectRevoked.GetRevokedCount() != 1 {
		t.Fatalf("RevokeSubject: %v, %v", subjectRevoked, err)
	}
	page, err = client.List(ctx, &sessionv1.ListSessionsRequest{Subject: subject})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.GetSessions()) != 1 || page.GetSessions()[0].GetId() != ids[1] {
		t.Fatalf("after the revokes, want only %s: %v", ids[1], page)
	}
}

func TestErrorsCarryGRPCCodes(t *testing.T) {
	client := newClient(t, sessiond.Options{Target: plainTarget})
	_, err := client.Create(context.Background(), &sessionv1.CreateSessionRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("Create without a subject: %v, want INVALID_ARGUMENT", err)
	}
	_, err = client.Rotate(context.Background(), &sessionv1.RotateSessionRequest{
		Token: "sess_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
	if code := status.Code(err); code != codes.InvalidArgument && code != codes.NotFound {
		t.Errorf("Rotate of a token that is not live: %v", err)
	}
	expectInvalid(t, client, "not-a-token", sessionv1.InvalidReason_INVALID_REASON_MALFORMED)
}

func TestOptionsThatCannotWork(t *testing.T) {
	for _, options := range []sessiond.Options{
		{Timeout: -1},
		{Retry: sessiond.RetryOptions{MaxAttempts: -1}},
		{Retry: sessiond.RetryOptions{InitialBackoff: -1}},
	} {
		if client, err := sessiond.New(options); err == nil {
			client.Close()
			t.Errorf("New(%+v) succeeded", options)
		}
	}
}
