package sessiond

import (
	"errors"
	"time"
)

// Options says how a Client reaches sessiond and how patient it is. The zero
// value works against a local `sessiond` run with no flags.
type Options struct {
	// Target is a gRPC target: host:port, or any name gRPC resolves
	// (dns:///host:port, unix:/path). Empty means "127.0.0.1:50051".
	Target string
	// Timeout bounds each call, retries included, when the caller's context
	// has no earlier deadline. Zero means 5 s: Validate answers from memory
	// and Create waits for one group commit (an fsync), so a healthy server
	// answers in milliseconds, and five seconds rides out a slow disk without
	// hanging a request handler forever.
	Timeout time.Duration
	// TLS turns on TLS (and mTLS with a client certificate). Nil means
	// plaintext, which is only fit for loopback.
	TLS *TLSOptions
	// Retry bounds the automatic retries of calls that are safe to repeat
	// (see retry.go for which ones and why).
	Retry RetryOptions
}

// TLSOptions holds PEM text, not file names: read files with os.ReadFile.
type TLSOptions struct {
	// RootCAsPEM holds the certificate authorities that may sign sessiond's
	// certificate. Empty means the system's trust store.
	RootCAsPEM []byte
	// CertPEM and KeyPEM are the client's certificate chain and private key
	// for mTLS. Both or neither; neither means the client does not
	// authenticate itself.
	CertPEM []byte
	KeyPEM  []byte
	// ServerName is checked against sessiond's certificate instead of the
	// target's host, e.g. when dialing an IP address the certificate does not
	// name. Empty means the target's host.
	ServerName string
}

// RetryOptions bounds retries of UNAVAILABLE. Zero fields take the defaults,
// which are those of the C++ client (client/client_options.h).
type RetryOptions struct {
	// MaxAttempts per call, the first one included; 1 turns retries off.
	// Zero means 4; more than 5 is capped at 5, as gRPC does.
	MaxAttempts int
	// InitialBackoff before the first retry (zero: 100 ms); each later one
	// doubles, up to MaxBackoff (zero: 1 s). The actual wait is random
	// between 0 and the backoff, so clients that failed together do not
	// retry together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

const (
	defaultTarget         = "127.0.0.1:50051"
	defaultTimeout        = 5 * time.Second
	defaultMaxAttempts    = 4
	maxAttemptsCap        = 5
	defaultInitialBackoff = 100 * time.Millisecond
	defaultMaxBackoff     = time.Second
)

// withDefaults fills in zero fields and rejects settings that cannot work.
func (o Options) withDefaults() (Options, error) {
	if o.Target == "" {
		o.Target = defaultTarget
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.Timeout < 0 {
		return o, errors.New("sessiond: Timeout must be positive")
	}
	r := &o.Retry
	if r.MaxAttempts == 0 {
		r.MaxAttempts = defaultMaxAttempts
	}
	if r.MaxAttempts < 0 {
		return o, errors.New("sessiond: Retry.MaxAttempts must be positive")
	}
	if r.MaxAttempts > maxAttemptsCap {
		r.MaxAttempts = maxAttemptsCap
	}
	if r.InitialBackoff == 0 {
		r.InitialBackoff = defaultInitialBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = defaultMaxBackoff
	}
	if r.InitialBackoff < 0 || r.MaxBackoff < 0 {
		return o, errors.New("sessiond: Retry backoffs must be positive")
	}
	return o, nil
}
