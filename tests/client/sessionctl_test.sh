#!/usr/bin/env bash
# sessionctl end to end: the real binary against a real sessiond. Every
# command, tokens through stdin and --token_file, JSON output, and the exit
# statuses scripts rely on (0 ok/valid, 1 invalid, 2 usage, 3 RPC error).
#
# Usage: sessionctl_test.sh SESSIOND_BINARY SESSIONCTL_BINARY
set -euo pipefail

sessiond=$1
sessionctl=$2
# shellcheck source=tests/testing/wait_for_port.sh
source "$(cd "$(dirname "$0")/../.." && pwd)/tests/testing/wait_for_port.sh"
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start LOG FLAGS...: runs sessiond on a free port; sets $pid and $port.
start() {
  local log=$1
  shift
  "$sessiond" --listen=127.0.0.1:0 --http_listen=127.0.0.1:0 "$@" 2>"$log" &
  pid=$!
  wait_for_port "$log" "$pid" || fail "sessiond did not start"
}

start "$work/sessiond.log" --store="sqlite:$work/sessions.db"

# ctl ARGS...: runs sessionctl against the server; sets $out and $rc.
ctl() {
  set +e
  out=$("$sessionctl" --target="127.0.0.1:$port" "$@" 2>"$work/stderr")
  rc=$?
  set -e
}
# expect RC WHAT: checks the exit status of the last ctl.
expect() {
  [ "$rc" = "$1" ] || fail "$2: exit $rc, want $1; out: $out; err: $(cat "$work/stderr")"
}
token_of() { sed -n 's/^ *"token": "\(sess_[A-Za-z0-9_-]*\)",\{0,1\}$/\1/p' <<<"$1"; }
id_of() { sed -n '0,/"id"/s/^ *"id": "\([A-Za-z0-9_-]*\)",\{0,1\}$/\1/p' <<<"$1"; }

ctl health
expect 0 health
grep -q '"status": "SERVING"' <<<"$out" || fail "health: $out"

ctl create alice --attributes=role=admin,team=blue --ttl=1h \
  --ip_address=203.0.113.7 --user_agent=sessionctl-test
expect 0 create
token=$(token_of "$out")
[ -n "$token" ] || fail "no token in: $out"
grep -q 'Max-Age=3600' <<<"$out" || fail "ttl not applied: $out"
id=$(id_of "$out")

ctl validate <<<"$token"
expect 0 "validate from stdin"
grep -q '"valid": true' <<<"$out" || fail "not valid: $out"
grep -q '"team": "blue"' <<<"$out" || fail "attributes lost: $out"
grep -q '"ipAddress": "203.0.113.7"' <<<"$out" || fail "client info lost: $out"

(umask 077 && printf '%s\n' "$token" >"$work/token")
ctl validate --token_file="$work/token"
expect 0 "validate from --token_file"

ctl validate <<<"sess_not-a-token"
expect 1 "validate junk"
grep -q '"valid": false' <<<"$out" || fail "junk: $out"
grep -q 'INVALID_REASON_MALFORMED' <<<"$out" || fail "junk reason: $out"
ctl validate </dev/null
expect 2 "validate with no token"
ctl validate --token_file="$work/missing"
expect 2 "validate with a missing token file"

ctl rotate --attributes=role=viewer --replace_attributes <<<"$token"
expect 0 rotate
old_token=$token
token=$(token_of "$out")
[ -n "$token" ] && [ "$token" != "$old_token" ] || fail "rotate: $out"
grep -q '"role": "viewer"' <<<"$out" || fail "rotate attributes: $out"
ctl validate <<<"$old_token"
expect 1 "validate a rotated-out token"
grep -q 'INVALID_REASON_REUSED' <<<"$out" || fail "reuse: $out"
ctl rotate <<<"$old_token"
expect 1 "rotate a rotated-out token"

# Idempotent login: the same request id gives the same session back.
ctl create alice --request_id=sessionctl-test-1
expect 0 "create with request id"
second_id=$(id_of "$out")
second_token=$(token_of "$out")
ctl create alice --request_id=sessionctl-test-1
expect 0 "create retried with the same request id"
[ "$(token_of "$out")" = "$second_token" ] || fail "request id ignored: $out"

ctl list alice --page_size=1
expect 0 list
[ "$(grep -c '"id":' <<<"$out")" = 1 ] || fail "page of 1 expected: $out"
grep -q '"nextPageToken": "[A-Za-z0-9_-]' <<<"$out" || fail "no next page: $out"
grep -q 'sess_' <<<"$out" && fail "list shows a token: $out"

ctl revoke --session_id="$second_id"
expect 0 "revoke by id"
grep -q '"revoked": true' <<<"$out" || fail "revoke: $out"
grep -q 'Max-Age=0' <<<"$out" || fail "no clearing cookie: $out"
ctl revoke --session_id="$second_id"
expect 1 "revoke a revoked session"
grep -q '"revoked": false' <<<"$out" || fail "revoke again: $out"

ctl create alice
expect 0 "third login"
ctl revoke-subject alice --except_session_id="$id"
expect 0 revoke-subject
grep -q '"revokedCount": 1' <<<"$out" || fail "revoke-subject: $out"
ctl validate <<<"$token"
expect 0 "the kept session"

ctl revoke <<<"$token"
expect 0 "revoke by token"
ctl validate <<<"$token"
expect 1 "validate after revoke"
grep -q 'INVALID_REASON_UNKNOWN' <<<"$out" || fail "after revoke: $out"

# The compromise response: every session issued before a moment ends.
ctl create dave
expect 0 "create before the cut"
dave=$(token_of "$out")
ctl revoke-issued-before --issued_before=2001-01-01T00:00:00Z
expect 0 "a cut long ago"
grep -q '"issuedBefore": "2001-01-01T00:00:00Z"' <<<"$out" || fail "old cut: $out"
ctl validate <<<"$dave"
expect 0 "a session newer than the cut"
ctl revoke-issued-before
expect 0 "a cut now"
grep -q '"revokedCount": "1"' <<<"$out" || fail "cut now: $out"
ctl validate <<<"$dave"
expect 1 "a session older than the cut"
ctl revoke-issued-before --issued_before=yesterday
expect 2 "a cut that is not a time"

# watch: one JSON line per message; a cursor resumes after a disconnect.
ctl watch --count=1
expect 0 "watch from now"
grep -q '^{"cursor":"[0-9a-f]*-[0-9]*","caughtUp":{}}$' <<<"$out" || fail "watch: $out"
cursor=$(sed -n 's/^{"cursor":"\([^"]*\)".*/\1/p' <<<"$out")
ctl create erin
erin_id=$(id_of "$out")
ctl revoke --session_id="$erin_id"
ctl watch --cursor="$cursor" --count=2
expect 0 "watch from a cursor"
[ "$(wc -l <<<"$out")" = 2 ] || fail "watch: not one line per message: $out"
head -1 <<<"$out" | grep -q "\"sessionRevoked\":{\"sessionId\":\"$erin_id\",\"cause\":\"CAUSE_REVOKED\"}" ||
  fail "watch after the cursor: $out"
tail -1 <<<"$out" | grep -q '"caughtUp":{}' || fail "watch caught up: $out"

# Usage errors: nothing is called.
for args in "" "bogus" "create" "create a b" "validate extra" "--nope health" \
            "--timeout=soon health" "create alice --attributes=novalue"; do
  # shellcheck disable=SC2086  # word splitting is the point
  ctl $args </dev/null
  expect 2 "usage: '$args'"
done
ctl --help
expect 0 "--help"
grep -q '^usage: sessionctl' <<<"$out" || fail "help: $out"

# RPC errors: refused by the server, or no server at all.
ctl create ""
expect 3 "create with an empty subject"
grep -q 'INVALID_ARGUMENT: subject is required' "$work/stderr" || fail "message: $(cat "$work/stderr")"
kill -TERM "$pid"
wait "$pid" || true
pid=
ctl health --timeout=2s
expect 3 "health with sessiond stopped"
grep -q UNAVAILABLE "$work/stderr" || fail "unreachable: $(cat "$work/stderr")"

grep -q -e "$token" -e "$old_token" "$work/sessiond.log" && fail "a token reached the log"

# TLS and mTLS through sessionctl's flags, against a sessiond that requires
# client certificates. Skipped by a sessiond without TLS flags.
help=$("$sessiond" --helpfull 2>&1 || true)  # --helpfull exits 1
if ! grep -q -e '--tls_client_ca' <<<"$help"; then
  echo "SKIP: this sessiond cannot serve TLS (no --tls_client_ca)"
  echo PASS
  exit 0
fi
certs="$work/certs"
mkdir -p "$certs"
# cert NAME ISSUER EXTENSIONS: an EC key NAME.key and certificate NAME.pem,
# self-signed when ISSUER is "self".
cert() {
  local name=$1 issuer=$2 ext=$3
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$certs/$name.key" 2>/dev/null)
  printf '%b' "$ext" >"$certs/$name.ext"
  if [ "$issuer" = self ]; then
    openssl req -x509 -new -key "$certs/$name.key" -subj "/CN=$name" -days 1 \
      -extensions v3 -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n%b' "$ext") \
      -out "$certs/$name.pem" 2>/dev/null
  else
    openssl req -new -key "$certs/$name.key" -subj "/CN=$name" \
      -out "$certs/$name.csr" 2>/dev/null
    openssl x509 -req -in "$certs/$name.csr" -CA "$certs/$issuer.pem" \
      -CAkey "$certs/$issuer.key" -CAcreateserial -days 1 \
      -extfile "$certs/$name.ext" -out "$certs/$name.pem" 2>/dev/null
  fi
  [ -s "$certs/$name.pem" ] || fail "openssl could not make $name"
}
ca_ext='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n'
cert ca self "$ca_ext"
cert other-ca self "$ca_ext"
cert server ca 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
cert client ca 'extendedKeyUsage=clientAuth\n'
cert stranger other-ca 'extendedKeyUsage=clientAuth\n'

start "$work/tls.log" --store=memory --tls_cert="$certs/server.pem" \
  --tls_key="$certs/server.key" --tls_client_ca="$certs/ca.pem"
mtls=(--tls_ca_file="$certs/ca.pem" --tls_cert_file="$certs/client.pem"
      --tls_key_file="$certs/client.key")
ctl "${mtls[@]}" health
expect 0 "health over mTLS"
ctl "${mtls[@]}" create tls-user
expect 0 "create over mTLS"
ctl "${mtls[@]}" --tls_server_name=localhost validate <<<"$(token_of "$out")"
expect 0 "validate over mTLS, server name given"
ctl --tls_ca_file="$certs/ca.pem" health --timeout=3s
expect 3 "TLS without a client certificate"
ctl --tls_ca_file="$certs/ca.pem" --tls_cert_file="$certs/stranger.pem" \
  --tls_key_file="$certs/stranger.key" health --timeout=3s
expect 3 "a client certificate from another CA"
ctl --tls_ca_file="$certs/other-ca.pem" --tls_cert_file="$certs/client.pem" \
  --tls_key_file="$certs/client.key" health --timeout=3s
expect 3 "a server certificate the client does not trust"
ctl health --timeout=3s
expect 3 "plaintext to a TLS server"
ctl --tls_cert_file="$certs/client.pem" health
expect 2 "a client certificate without its key"
echo PASS
