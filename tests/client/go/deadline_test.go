package clienttest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sessiond/client/go/sessiond"
)

// startSilentListener accepts TCP connections and never answers on them: a
// server that hangs. Returns its address.
func startSilentListener(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		listener.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, conn := range conns {
			conn.Close()
		}
	})
	return listener.Addr().String()
}

// expectDeadline calls Validate and checks that it failed with
// DEADLINE_EXCEEDED after between min and max.
func expectDeadline(t *testing.T, ctx context.Context, client *sessiond.Client, min, max time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := client.Validate(ctx, "sess_whatever")
	elapsed := time.Since(start)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Validate against a silent server: %v, want DEADLINE_EXCEEDED", err)
	}
	if elapsed < min || elapsed > max {
		t.Fatalf("Validate gave up after %v, want between %v and %v", elapsed, min, max)
	}
}

func TestDefaultDeadlineIsFiveSeconds(t *testing.T) {
	t.Parallel()
	client := newClient(t, sessiond.Options{Target: startSilentListener(t)})
	expectDeadline(t, context.Background(), client, 4900*time.Millisecond, 7*time.Second)
}

func TestDeadlineFromOptions(t *testing.T) {
	t.Parallel()
	client := newClient(t, sessiond.Options{
		Target: startSilentListener(t), Timeout: 300 * time.Millisecond})
	expectDeadline(t, context.Background(), client, 250*time.Millisecond, 3*time.Second)
}

func TestCallersEarlierDeadlineWins(t *testing.T) {
	t.Parallel()
	client := newClient(t, sessiond.Options{Target: startSilentListener(t), Timeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	expectDeadline(t, ctx, client, 150*time.Millisecond, 3*time.Second)
}
