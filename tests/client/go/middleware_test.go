package clienttest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sessiond/client/go/sessiond"
	sessionv1 "sessiond/gen/session/v1"
)

// whoAmI answers with the subject of the session RequireSession found.
var whoAmI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	session := sessiond.SessionFrom(r.Context())
	if session == nil {
		http.Error(w, "no session in the context", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, session.GetSubject())
})

// get requests path from server with the cookie name=value (none when
// name is empty) and returns the status and body.
func get(t *testing.T, server *httptest.Server, name, value string) (int, string) {
	t.Helper()
	request, err := http.NewRequest("GET", server.URL+"/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	if name != "" {
		request.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	response, err := server.Client().Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

func TestRequireSession(t *testing.T) {
	client := newClient(t, sessiond.Options{Target: plainTarget})
	server := httptest.NewServer(sessiond.RequireSession(client, "")(whoAmI))
	defer server.Close()
	created, err := client.Create(context.Background(), &sessionv1.CreateSessionRequest{Subject: uniqueSubject(t)})
	if err != nil {
		t.Fatal(err)
	}
	name := created.GetCookie().GetName()

	if code, body := get(t, server, name, created.GetToken()); code != http.StatusOK || body != uniqueSubject(t) {
		t.Fatalf("with a valid cookie: %d %q, want 200 and the subject", code, body)
	}
	if code, _ := get(t, server, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("without a cookie: %d, want 401", code)
	}
	if code, _ := get(t, server, name, "sess_junk"); code != http.StatusUnauthorized {
		t.Fatalf("with a junk cookie: %d, want 401", code)
	}
	if code, _ := get(t, server, "other", created.GetToken()); code != http.StatusUnauthorized {
		t.Fatalf("with the token in another cookie: %d, want 401", code)
	}
	if _, err := client.Revoke(context.Background(), created.GetToken()); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, server, name, created.GetToken()); code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d, want 401", code)
	}
}

func TestRequireSessionWithAnotherCookieName(t *testing.T) {
	client := newClient(t, sessiond.Options{Target: plainTarget})
	server := httptest.NewServer(sessiond.RequireSession(client, "sid")(whoAmI))
	defer server.Close()
	created, err := client.Create(context.Background(), &sessionv1.CreateSessionRequest{Subject: uniqueSubject(t)})
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, server, "sid", created.GetToken()); code != http.StatusOK || body != uniqueSubject(t) {
		t.Fatalf("with a valid sid cookie: %d %q", code, body)
	}
	if code, _ := get(t, server, sessiond.DefaultCookieName, created.GetToken()); code != http.StatusUnauthorized {
		t.Fatalf("with the default cookie name: %d, want 401", code)
	}
}

func TestRequireSessionWhenSessiondDoesNotAnswer(t *testing.T) {
	client := newClient(t, sessiond.Options{Target: startSilentListener(t), Timeout: 200 * time.Millisecond})
	server := httptest.NewServer(sessiond.RequireSession(client, "")(whoAmI))
	defer server.Close()
	if code, _ := get(t, server, sessiond.DefaultCookieName, "sess_whatever"); code != http.StatusServiceUnavailable {
		t.Fatalf("with sessiond silent: %d, want 503", code)
	}
}
