package clienttest

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// breakingProxy relays a client's connections to sessiond and can lose
// answers: for each break it was given, it drops sessiond's answer to the
// next request and closes the client's connection, after sessiond has acted
// on that request. The client sees UNAVAILABLE for a call that took effect:
// the case that makes retrying unsafe for some calls. It also counts the
// requests (gRPC calls and retry attempts) that went through it.
//
// It reads just enough HTTP/2 to do this: each direction is a stream of
// frames (9-byte header: 24-bit length, type, flags, stream id), the
// client's preceded by a 24-byte preface. A HEADERS frame from the client
// starts a request; one from sessiond on a stream starts its answer, which
// sessiond sends only once the call is done.
type breakingProxy struct {
	listener net.Listener
	backend  string

	mu       sync.Mutex
	breaks   int                   // answers still to lose; guarded by mu
	requests int                   // guarded by mu
	open     map[net.Conn]struct{} // client connections; guarded by mu
}

const (
	http2PrefaceLength = 24
	frameHeaderLength  = 9
	frameTypeHeaders   = 0x1
)

// startBreakingProxy listens on a loopback port in front of backend.
func startBreakingProxy(t *testing.T, backend string) *breakingProxy {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &breakingProxy{listener: listener, backend: backend, open: map[net.Conn]struct{}{}}
	var conns sync.WaitGroup
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			client, err := listener.Accept()
			if err != nil {
				return
			}
			proxy.mu.Lock()
			proxy.open[client] = struct{}{}
			proxy.mu.Unlock()
			conns.Add(1)
			go func() {
				defer conns.Done()
				proxy.relay(client)
			}()
		}
	}()
	t.Cleanup(func() {
		listener.Close()
		<-accepting
		proxy.mu.Lock()
		for conn := range proxy.open {
			conn.Close()
		}
		proxy.mu.Unlock()
		conns.Wait()
	})
	return proxy
}

func (p *breakingProxy) target() string { return p.listener.Addr().String() }

// breakAnswers makes the proxy lose the next n answers.
func (p *breakingProxy) breakAnswers(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.breaks = n
}

func (p *breakingProxy) requestCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// relay serves one client connection until either side closes it.
func (p *breakingProxy) relay(client net.Conn) {
	defer func() {
		client.Close()
		p.mu.Lock()
		delete(p.open, client)
		p.mu.Unlock()
	}()
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() {
		p.relayRequests(client, server)
		done <- struct{}{}
	}()
	go func() {
		p.relayAnswers(server, client)
		done <- struct{}{}
	}()
	<-done // either direction ending ends both: the deferred closes
}

func (p *breakingProxy) relayRequests(client, server net.Conn) {
	preface := make([]byte, http2PrefaceLength)
	if _, err := io.ReadFull(client, preface); err != nil {
		return
	}
	if _, err := server.Write(preface); err != nil {
		return
	}
	for {
		frame, err := readFrame(client)
		if err != nil {
			return
		}
		if frame[3] == frameTypeHeaders {
			p.mu.Lock()
			p.requests++
			p.mu.Unlock()
		}
		if _, err := server.Write(frame); err != nil {
			return
		}
	}
}

func (p *breakingProxy) relayAnswers(server, client net.Conn) {
	for {
		frame, err := readFrame(server)
		if err != nil {
			return
		}
		streamID := binary.BigEndian.Uint32(frame[5:9]) & 0x7fffffff
		if frame[3] == frameTypeHeaders && streamID != 0 && p.takeBreak() {
			return // relay closes both connections: the answer is lost
		}
		if _, err := client.Write(frame); err != nil {
			return
		}
	}
}

func (p *breakingProxy) takeBreak() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.breaks == 0 {
		return false
	}
	p.breaks--
	return true
}

// readFrame reads one whole HTTP/2 frame, header included.
func readFrame(r io.Reader) ([]byte, error) {
	header := make([]byte, frameHeaderLength)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, err
	}
	length := int(header[0])<<16 | int(header[1])<<8 | int(header[2])
	frame := make([]byte, frameHeaderLength+length)
	copy(frame, header)
	if _, err := io.ReadFull(r, frame[frameHeaderLength:]); err != nil {
		return nil, err
	}
	return frame, nil
}
