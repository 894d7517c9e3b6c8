package sessiond

import (
	"context"
	"math/rand"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sessionv1 "sessiond/gen/session/v1"
)

// Which calls are retried on UNAVAILABLE, and how: the rules of the C++
// client's service config (client/service_config.h).
//
// UNAVAILABLE may mean the call took effect: sessiond answers it only when
// nothing changed, but gRPC reports the same code for a connection that broke
// after the request was sent. So only calls whose repetition is harmless are
// retried:
//   - ValidateSession, ListSessions: read-only.
//   - RevokeSession, RevokeSubjectSessions: the end state is the same however
//     often they run (a repeat reports revoked=false / a smaller count).
//   - CreateSession only with a request_id: sessiond answers a repeat with
//     the same session and token. Without one a repeat makes a second
//     session that nobody receives.
//   - RotateSession never: a repeat after a committed first attempt presents
//     a token that was just rotated out, which sessiond reports as theft.
//
// This is done here rather than by a gRPC service config because grpc-go
// before 1.40 (Debian 12 has 1.33) ignores a service config's retryPolicy
// unless the environment holds GRPC_GO_RETRY=on; an interceptor retries the
// same way on every grpc-go, and can look at the request (gRPC's policies
// are per method, which is why the C++ client needs a second channel for
// creates with a request_id).

const servicePrefix = "/session.v1.SessionService/"

// retryable says whether a failed call of method with request may be
// repeated.
func retryable(method string, request interface{}) bool {
	switch method {
	case servicePrefix + "ValidateSession", servicePrefix + "ListSessions",
		servicePrefix + "RevokeSession", servicePrefix + "RevokeSubjectSessions":
		return true
	case servicePrefix + "CreateSession":
		create, ok := request.(*sessionv1.CreateSessionRequest)
		return ok && create.GetRequestId() != ""
	}
	return false
}

// retrier is a unary client interceptor that repeats retryable calls that
// failed with UNAVAILABLE, with exponential backoff and gRPC's retry
// throttling, all within the call's deadline.
type retrier struct {
	options  RetryOptions
	throttle *retryThrottle
}

func newRetrier(options RetryOptions) *retrier {
	// gRPC's retryThrottling as the C++ client configures it.
	return &retrier{options: options, throttle: newRetryThrottle(10, 0.1)}
}

func (r *retrier) intercept(ctx context.Context, method string, request, reply interface{},
	conn *grpc.ClientConn, invoke grpc.UnaryInvoker, callOptions ...grpc.CallOption) error {
	canRetry := retryable(method, request)
	backoff := r.options.InitialBackoff
	for attempt := 1; ; attempt++ {
		err := invoke(ctx, method, request, reply, conn, callOptions...)
		code := status.Code(err)
		if code == codes.OK {
			r.throttle.succeeded()
			return nil
		}
		if !canRetry || code != codes.Unavailable {
			return err
		}
		// Every retryable failure counts against the throttle, the last
		// attempt's too, as in gRPC.
		throttled := r.throttle.failed()
		if attempt >= r.options.MaxAttempts || throttled {
			return err
		}
		if waitErr := sleep(ctx, randomUpTo(backoff)); waitErr != nil {
			return waitErr
		}
		backoff *= 2
		if backoff > r.options.MaxBackoff {
			backoff = r.options.MaxBackoff
		}
	}
}

// jitter is seeded per process: go 1.19's global math/rand source is not,
// so every process would wait the same "random" times.
var jitter = struct {
	sync.Mutex
	source *rand.Rand // guarded by the mutex
}{source: rand.New(rand.NewSource(time.Now().UnixNano()))}

// randomUpTo spreads retries over [0, limit), so that clients that failed
// together do not come back together.
func randomUpTo(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	jitter.Lock()
	defer jitter.Unlock()
	return time.Duration(jitter.source.Int63n(int64(limit)))
}

// sleep waits for d, or fails as gRPC would if the call's context ends first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// retryThrottle is gRPC's retry throttling (gRFC A6): a token bucket that
// loses a token for each retryable failure and regains tokenRatio for each
// success; retries stop while it is at or below half full, so a server that
// is down does not get several times its normal load from retries. Safe for
// concurrent use.
type retryThrottle struct {
	mu         sync.Mutex
	tokens     float64 // guarded by mu
	maxTokens  float64
	tokenRatio float64
}

func newRetryThrottle(maxTokens, tokenRatio float64) *retryThrottle {
	return &retryThrottle{tokens: maxTokens, maxTokens: maxTokens, tokenRatio: tokenRatio}
}

// failed records a retryable failure and says whether retries are now
// throttled.
func (t *retryThrottle) failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens--
	if t.tokens < 0 {
		t.tokens = 0
	}
	return t.tokens <= t.maxTokens/2
}

func (t *retryThrottle) succeeded() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens += t.tokenRatio
	if t.tokens > t.maxTokens {
		t.tokens = t.maxTokens
	}
}
