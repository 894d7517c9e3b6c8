package clienttest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sessiond/client/go/sessiond"
	sessionv1 "sessiond/gen/session/v1"
)

// Each test loses sessiond's answers through a breakingProxy and checks both
// what the client made of it and what sessiond did: a retry is safe only
// where the repeat of a call that took effect is harmless.

// retryFixture is a client whose calls go through a breakingProxy to the
// shared sessiond, and a direct client to look at sessiond's state.
type retryFixture struct {
	proxy   *breakingProxy
	client  *sessiond.Client
	direct  *sessiond.Client
	subject string
}

func newRetryFixture(t *testing.T, retry sessiond.RetryOptions) *retryFixture {
	proxy := startBreakingProxy(t, plainTarget)
	return &retryFixture{
		proxy:   proxy,
		client:  newClient(t, sessiond.Options{Target: proxy.target(), Retry: retry}),
		direct:  newClient(t, sessiond.Options{Target: plainTarget}),
		subject: uniqueSubject(t),
	}
}

// create makes a session directly, not through the proxy.
func (f *retryFixture) create(t *testing.T) *sessionv1.CreateSessionResponse {
	t.Helper()
	created, err := f.direct.Create(context.Background(), &sessionv1.CreateSessionRequest{Subject: f.subject})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// liveSessions counts the subject's sessions.
func (f *retryFixture) liveSessions(t *testing.T) int {
	t.Helper()
	page, err := f.direct.List(context.Background(), &sessionv1.ListSessionsRequest{Subject: f.subject})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.GetSessions())
}

// expectRequests checks how many attempts reached the proxy since the last
// check.
func (f *retryFixture) expectRequests(t *testing.T, want int) {
	t.Helper()
	if got := f.proxy.requestCount(); got != want {
		t.Fatalf("%d requests went through the proxy, want %d", got, want)
	}
}

func TestRetryValidateAfterALostAnswer(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	created := f.create(t)
	f.proxy.breakAnswers(1)
	verdict, err := f.client.Validate(context.Background(), created.GetToken())
	if err != nil || !verdict.GetValid() {
		t.Fatalf("Validate: %v, %v", verdict, err)
	}
	f.expectRequests(t, 2)
}

func TestRetryListAfterALostAnswer(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	f.create(t)
	f.proxy.breakAnswers(1)
	page, err := f.client.List(context.Background(), &sessionv1.ListSessionsRequest{Subject: f.subject})
	if err != nil || len(page.GetSessions()) != 1 {
		t.Fatalf("List: %v, %v", page, err)
	}
	f.expectRequests(t, 2)
}

func TestRetryRevokeAfterALostAnswer(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	created := f.create(t)
	f.proxy.breakAnswers(1)
	revoked, err := f.client.Revoke(context.Background(), created.GetToken())
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	// The lost first attempt ended the session; the repeat found none.
	if revoked.GetRevoked() {
		t.Fatalf("Revoke retried after a lost answer: %v, want revoked=false", revoked)
	}
	f.expectRequests(t, 2)
	expectInvalid(t, f.direct, created.GetToken(), sessionv1.InvalidReason_INVALID_REASON_UNKNOWN)
}

func TestRetryRevokeSubjectAfterALostAnswer(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	f.create(t)
	f.proxy.breakAnswers(1)
	revoked, err := f.client.RevokeSubject(context.Background(), f.subject, "")
	if err != nil || revoked.GetRevokedCount() != 0 {
		t.Fatalf("RevokeSubject: %v, %v; want the repeat to find nothing left", revoked, err)
	}
	f.expectRequests(t, 2)
	if n := f.liveSessions(t); n != 0 {
		t.Fatalf("%d sessions left", n)
	}
}

func TestRetryCreateWithRequestIDGivesTheSameSession(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	f.proxy.breakAnswers(1)
	created, err := f.client.Create(context.Background(), &sessionv1.CreateSessionRequest{
		Subject: f.subject, RequestId: "retry-test-" + f.subject})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	f.expectRequests(t, 2)
	if n := f.liveSessions(t); n != 1 {
		t.Fatalf("%d sessions after a retried create, want 1", n)
	}
	verdict, err := f.direct.Validate(context.Background(), created.GetToken())
	if err != nil || !verdict.GetValid() {
		t.Fatalf("the retried create's token: %v, %v", verdict, err)
	}
}

func TestNoRetryOfCreateWithoutRequestID(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	f.proxy.breakAnswers(1)
	_, err := f.client.Create(context.Background(), &sessionv1.CreateSessionRequest{Subject: f.subject})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Create: %v, want UNAVAILABLE", err)
	}
	f.expectRequests(t, 1)
	// Why not: the lost attempt made a session whose token nobody has.
	if n := f.liveSessions(t); n != 1 {
		t.Fatalf("%d sessions, want the 1 the lost attempt made", n)
	}
}

func TestNoRetryOfRotate(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	created := f.create(t)
	f.proxy.breakAnswers(1)
	_, err := f.client.Rotate(context.Background(), &sessionv1.RotateSessionRequest{Token: created.GetToken()})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Rotate: %v, want UNAVAILABLE", err)
	}
	f.expectRequests(t, 1)
	// Why not: the lost attempt rotated; a repeat would present a dead token.
	expectInvalid(t, f.direct, created.GetToken(), sessionv1.InvalidReason_INVALID_REASON_REUSED)
}

func TestNoRetryOfOtherCodes(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	_, err := f.client.Create(context.Background(), &sessionv1.CreateSessionRequest{RequestId: "no-subject"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Create without a subject: %v, want INVALID_ARGUMENT", err)
	}
	f.expectRequests(t, 1)
}

func TestRetriesStopAtMaxAttemptsThenThrottle(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{})
	created := f.create(t)
	f.proxy.breakAnswers(1000)
	_, err := f.client.Validate(context.Background(), created.GetToken())
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Validate: %v, want UNAVAILABLE", err)
	}
	f.expectRequests(t, 4) // the default MaxAttempts
	// Throttling: 4 failures took 4 of 10 tokens; the next one leaves 5, half,
	// and retries stop.
	_, err = f.client.Validate(context.Background(), created.GetToken())
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Validate: %v, want UNAVAILABLE", err)
	}
	f.expectRequests(t, 5)
}

func TestMaxAttemptsOneTurnsRetriesOff(t *testing.T) {
	f := newRetryFixture(t, sessiond.RetryOptions{MaxAttempts: 1})
	created := f.create(t)
	f.proxy.breakAnswers(1)
	_, err := f.client.Validate(context.Background(), created.GetToken())
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Validate: %v, want UNAVAILABLE", err)
	}
	f.expectRequests(t, 1)
}

func TestDeadlineEndsTheBackoff(t *testing.T) {
	proxy := startBreakingProxy(t, plainTarget)
	client := newClient(t, sessiond.Options{Target: proxy.target(), Timeout: 500 * time.Millisecond,
		Retry: sessiond.RetryOptions{InitialBackoff: time.Minute, MaxBackoff: time.Minute}})
	proxy.breakAnswers(1000)
	start := time.Now()
	_, err := client.Validate(context.Background(), "sess_whatever")
	if status.Code(err) != codes.DeadlineExceeded || time.Since(start) > 5*time.Second {
		t.Fatalf("Validate: %v after %v, want DEADLINE_EXCEEDED within the 500 ms timeout",
			err, time.Since(start))
	}
}
