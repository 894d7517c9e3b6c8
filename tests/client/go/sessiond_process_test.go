// Tests of the Go client (client/go) against the real sessiond, run by
// tests/client/go_client_test.sh. This file starts sessiond: a plaintext one
// shared by the package's tests, and others that tests need for themselves.
package clienttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// plainTarget is the address of the plaintext sessiond TestMain starts.
var plainTarget string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sessiond-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	process, err := startSessiond(dir, "--store=memory")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plainTarget = process.target
	code := m.Run()
	process.stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sessiondProcess is the real sessiond binary ($SESSIOND_BINARY) as a child.
type sessiondProcess struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
	target string
}

var servingLine = regexp.MustCompile(`serving on \S+ \(port (\d+)\)`)

// startSessiond runs sessiond on a free loopback port (it picks one; its log
// says which), logging to dir/sessiond.log.
func startSessiond(dir string, flags ...string) (*sessiondProcess, error) {
	binary := os.Getenv("SESSIOND_BINARY")
	if binary == "" {
		return nil, fmt.Errorf("SESSIOND_BINARY is not set")
	}
	logPath := filepath.Join(dir, "sessiond.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(binary, append([]string{"--listen=127.0.0.1:0", "--http_listen=127.0.0.1:0"}, flags...)...)
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	process := &sessiondProcess{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(process.exited) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		text, _ := os.ReadFile(logPath)
		if match := servingLine.FindSubmatch(text); match != nil {
			process.target = "127.0.0.1:" + string(match[1])
			return process, nil
		}
		select {
		case <-process.exited:
			return nil, fmt.Errorf("sessiond exited at start:\n%s", text)
		case <-time.After(20 * time.Millisecond):
		}
	}
	process.stop()
	text, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("sessiond did not start in 30 s:\n%s", text)
}

func (p *sessiondProcess) stop() {
	p.cmd.Process.Kill()
	<-p.exited
}

// startSessiondForTest is startSessiond for one test, stopped at its end.
func startSessiondForTest(t *testing.T, flags ...string) *sessiondProcess {
	t.Helper()
	process, err := startSessiond(t.TempDir(), flags...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(process.stop)
	return process
}

// testCerts are the files scripts/make-test-certs wrote: ca.pem,
// server.pem/key, login.pem/key, rogue-ca.pem, rogue.pem/key, ...
type testCerts struct {
	t   *testing.T
	dir string
}

// makeTestCerts runs scripts/make-test-certs ($SESSIOND_MAKE_TEST_CERTS).
func makeTestCerts(t *testing.T) testCerts {
	t.Helper()
	script := os.Getenv("SESSIOND_MAKE_TEST_CERTS")
	if script == "" {
		t.Fatal("SESSIOND_MAKE_TEST_CERTS is not set")
	}
	dir := t.TempDir()
	if out, err := exec.Command(script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return testCerts{t: t, dir: dir}
}

func (c testCerts) path(name string) string { return filepath.Join(c.dir, name) }

func (c testCerts) pem(name string) []byte {
	data, err := os.ReadFile(c.path(name))
	if err != nil {
		c.t.Fatal(err)
	}
	return data
}

// uniqueSubject keeps tests that share a sessiond out of each other's way.
func uniqueSubject(t *testing.T) string {
	return strings.ReplaceAll(t.Name(), "/", "-")
}
