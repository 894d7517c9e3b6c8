#!/usr/bin/env bash
# End-to-end test through `buf curl` and server reflection alone (no proto
# files): list the service, create, validate, revoke, validate again, check
# health; then check that --reflection=false really hides the schema.
#
# Usage: buf_curl_test.sh SESSIOND_BINARY BUF_BINARY
set -euo pipefail

sessiond=$1
buf=$2
# Bazel runs this script as //:buf_curl_test, not from tests/api/, and says
# where the source tree is.
repo=${SESSIOND_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/testing/wait_for_port.sh
source "$repo/tests/testing/wait_for_port.sh"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$work"/*.log; do echo "--- $log" >&2; cat "$log" >&2; done
  exit 1
}

# start NAME FLAGS...: runs sessiond on a free port; sets $port.
start() {
  local name=$1
  shift
  "$sessiond" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 "$@" 2>"$work/$name.log" &
  pids+=($!)
  wait_for_port "$work/$name.log" "$!" || fail "sessiond did not start"
}

call() {  # call PORT METHOD JSON
  "$buf" curl --protocol grpc --http2-prior-knowledge --data "$3" \
    "http://127.0.0.1:$1/$2"
}

start main --store="sqlite:$work/sessions.db"

methods=$("$buf" curl --protocol grpc --http2-prior-knowledge --list-methods \
  "http://127.0.0.1:$port")
for m in CreateSession ValidateSession RevokeSession RotateSession \
         RevokeSubjectSessions ListSessions WatchRevocations; do
  grep -qx "session.v1.SessionService/$m" <<<"$methods" || fail "$m not listed"
done

created=$(call "$port" session.v1.SessionService/CreateSession \
  '{"subject":"alice","attributes":{"role":"admin"},"ttl":"3600s"}')
token=$(sed -n 's/^  "token": "\(sess_[A-Za-z0-9_-]*\)",\{0,1\}$/\1/p' <<<"$created")
[ -n "$token" ] || fail "no token in: $created"
grep -q 'Max-Age=3600' <<<"$created" || fail "cookie lacks Max-Age: $created"

valid=$(call "$port" session.v1.SessionService/ValidateSession "{\"token\":\"$token\"}")
grep -q '"valid": true' <<<"$valid" || fail "not valid: $valid"
grep -q '"role": "admin"' <<<"$valid" || fail "attributes lost: $valid"

rotated=$(call "$port" session.v1.SessionService/RotateSession "{\"token\":\"$token\"}")
old_token=$token
token=$(sed -n 's/^  "token": "\(sess_[A-Za-z0-9_-]*\)",\{0,1\}$/\1/p' <<<"$rotated")
[ -n "$token" ] && [ "$token" != "$old_token" ] || fail "rotate gave no new token: $rotated"
reused=$(call "$port" session.v1.SessionService/ValidateSession "{\"token\":\"$old_token\"}")
grep -q '"reason": "INVALID_REASON_REUSED"' <<<"$reused" || fail "old token: $reused"

call "$port" session.v1.SessionService/CreateSession '{"subject":"alice"}' >/dev/null
listed=$(call "$port" session.v1.SessionService/ListSessions '{"subject":"alice","pageSize":1}')
[ "$(grep -c '"id":' <<<"$listed")" = 1 ] || fail "page of 1 expected: $listed"
grep -q '"nextPageToken"' <<<"$listed" || fail "no next page: $listed"

# Envoy's ext_authz Check, through reflection too: the cookie identifies
# alice; a forged identity header is overwritten.
grep -qx "envoy.service.auth.v3.Authorization/Check" <<<"$methods" || fail "Check not listed"
check() {  # check COOKIE
  call "$port" envoy.service.auth.v3.Authorization/Check \
    "{\"attributes\":{\"request\":{\"http\":{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"cookie\":\"$1\",\"x-session-subject\":\"root\"}}}}}"
}
allowed=$(check "a=b; __Host-session=$token")
grep -q '"okResponse"' <<<"$allowed" || fail "Check denied a live session: $allowed"
grep -q '"value": "alice"' <<<"$allowed" || fail "no subject header: $allowed"
grep -q '"value": "root"' <<<"$allowed" && fail "forged subject kept: $allowed"
denied=$(check "__Host-session=$old_token")
grep -q '"code": "Unauthorized"' <<<"$denied" || fail "Check allowed a rotated-out token: $denied"

# The revocation stream through reflection: caught up, then the revoke.
call "$port" session.v1.SessionService/WatchRevocations '{}' >"$work/watch.out" 2>&1 &
watcher=$!
pids+=("$watcher")
for _ in $(seq 1 300); do
  grep -q '"caughtUp"' "$work/watch.out" && break
  sleep 0.1
done
grep -q '"caughtUp"' "$work/watch.out" || fail "watch: $(cat "$work/watch.out")"
session_id=$(sed -n 's/^    "id": "\([A-Za-z0-9_-]*\)",\{0,1\}$/\1/p' <<<"$rotated")
[ -n "$session_id" ] || fail "no session id in: $rotated"

revoked=$(call "$port" session.v1.SessionService/RevokeSession "{\"token\":\"$token\"}")
grep -q '"revoked": true' <<<"$revoked" || fail "not revoked: $revoked"
for _ in $(seq 1 300); do
  grep -q "\"sessionId\": \"$session_id\"" "$work/watch.out" && break
  sleep 0.1
done
grep -q "\"sessionId\": \"$session_id\"" "$work/watch.out" ||
  fail "the revoke never reached the watch: $(cat "$work/watch.out")"
kill "$watcher" 2>/dev/null || true

after=$(call "$port" session.v1.SessionService/ValidateSession "{\"token\":\"$token\"}")
grep -q '"reason": "INVALID_REASON_UNKNOWN"' <<<"$after" || fail "still valid: $after"
grep -q '"valid": true' <<<"$after" && fail "still valid: $after"

all=$(call "$port" session.v1.SessionService/RevokeSubjectSessions '{"subject":"alice"}')
grep -q '"revokedCount": 1' <<<"$all" || fail "revoke-all: $all"

health=$(call "$port" grpc.health.v1.Health/Check '{}')
grep -q '"status": "SERVING"' <<<"$health" || fail "health: $health"

# A broken request is a readable error, not a crash.
if bad=$(call "$port" session.v1.SessionService/CreateSession '{"subject":""}' 2>&1); then
  fail "empty subject accepted: $bad"
fi
grep -q 'subject is required' <<<"$bad" || fail "unclear error: $bad"

start hidden --store=memory --reflection=false
if out=$("$buf" curl --protocol grpc --http2-prior-knowledge --list-methods \
    "http://127.0.0.1:$port" 2>&1); then
  fail "reflection still served with --reflection=false: $out"
fi

grep -q -e "$token" -e "$old_token" "$work"/*.log && fail "a token reached the log"
echo "PASS"
