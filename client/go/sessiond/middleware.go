package sessiond

import (
	"context"
	"net/http"

	sessionv1 "sessiond/gen/session/v1"
)

// DefaultCookieName is the cookie sessiond's Create answers with, unless
// sessiond was started with another name.
const DefaultCookieName = "__Host-session"

type sessionKey struct{}

// RequireSession is net/http middleware that validates the session cookie
// (cookieName; empty means DefaultCookieName) on every request and hands the
// session to next through the request's context (SessionFrom). A request
// without a valid session gets 401 and never reaches next; when sessiond
// cannot answer it gets 503, so an outage does not look like a logout.
//
// Example:
//
//	mux.Handle("/account", sessiond.RequireSession(client, "")(account))
//	// in account: session := sessiond.SessionFrom(r.Context())
func RequireSession(client *Client, cookieName string) func(http.Handler) http.Handler {
	if cookieName == "" {
		cookieName = DefaultCookieName
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cookie, err := r.Cookie(cookieName)
			if err != nil {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			verdict, err := client.Validate(r.Context(), cookie.Value)
			if err != nil {
				http.Error(w, "session service unavailable", http.StatusServiceUnavailable)
				return
			}
			if !verdict.GetValid() {
				http.Error(w, "invalid session", http.StatusUnauthorized)
				return
			}
			ctx := context.WithValue(r.Context(), sessionKey{}, verdict.GetSession())
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// SessionFrom returns the session RequireSession put into ctx, or nil.
func SessionFrom(ctx context.Context) *sessionv1.Session {
	session, _ := ctx.Value(sessionKey{}).(*sessionv1.Session)
	return session
}
