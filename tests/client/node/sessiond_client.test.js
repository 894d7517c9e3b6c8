'use strict';
// The Node client (client/node) against a real sessiond: every call, errors,
// and the example program. Run with `node --test`; SESSIOND_BINARY names the
// sessiond to start.

const assert = require('node:assert/strict');
const {execFile, spawn} = require('node:child_process');
const path = require('node:path');
const {after, before, test} = require('node:test');
const {promisify} = require('node:util');

const {SessiondClient, grpc} =
    require('../../../client/node/sessiond_client');

let server;
let target;
let sessiond;

// Starts sessiond on a free port and resolves with "127.0.0.1:PORT", read
// from its "serving on" log line.
function startSessiond() {
  return new Promise((resolve, reject) => {
    server = spawn(process.env.SESSIOND_BINARY,
                   ['--listen=127.0.0.1:0', '--http_listen=127.0.0.1:0', '--store=memory'],
                   {stdio: ['ignore', 'ignore', 'pipe']});
    let log = '';
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /serving on \S+ \(port (\d+)\)/.exec(log);
      if (match) resolve(`127.0.0.1:${match[1]}`);
    });
    server.on('exit', (code) => reject(new Error(`sessiond exited ${code}:\n${log}`)));
    server.on('error', reject);
  });
}

before(async () => {
  target = await startSessiond();
  sessiond = new SessiondClient({target});
});

after(() => {
  sessiond.close();
  server.removeAllListeners('exit');
  server.kill('SIGTERM');
});

test('create, validate, rotate, list, revoke', async () => {
  const created = await sessiond.createSession({
    subject: 'dave', attributes: {role: 'admin'}, ttl: {seconds: 3600},
    client: {ipAddress: '198.51.100.4', userAgent: 'node:test'},
  });
  assert.match(created.token, /^sess_/);
  assert.match(created.cookie.setCookieHeader, /; Secure; HttpOnly; .*Max-Age=3600/);

  const verdict = await sessiond.validateSession(created.token);
  assert.equal(verdict.valid, true);
  assert.equal(verdict.session.attributes.role, 'admin');
  assert.equal(verdict.session.client.ipAddress, '198.51.100.4');

  const rotated = await sessiond.rotateSession(created.token,
                                               {attributes: {role: 'viewer'}});
  assert.equal(rotated.session.id, created.session.id);
  assert.equal((await sessiond.validateSession(created.token)).reason,
               'INVALID_REASON_REUSED');

  const second = await sessiond.createSession({subject: 'dave'});
  const page = await sessiond.listSessions('dave', {pageSize: 1});
  assert.equal(page.sessions.length, 1);
  assert.notEqual(page.nextPageToken, '');

  const ended = await sessiond.revokeSubjectSessions(
      'dave', {exceptSessionId: second.session.id});
  assert.equal(ended.revokedCount, 1);

  const revoked = await sessiond.revokeSession({sessionId: second.session.id});
  assert.equal(revoked.revoked, true);
  assert.match(revoked.clearCookieHeader, /Max-Age=0/);
  assert.equal((await sessiond.validateSession(second.token)).valid, false);
});

test('idempotent create returns the same token', async () => {
  const first = await sessiond.createSession({subject: 'erin', requestId: 'node-1'});
  const again = await sessiond.createSession({subject: 'erin', requestId: 'node-1'});
  assert.equal(again.token, first.token);
});

test('an invalid token is an answer, a broken request an error', async () => {
  const verdict = await sessiond.validateSession('junk');
  assert.equal(verdict.valid, false);
  assert.equal(verdict.reason, 'INVALID_REASON_MALFORMED');
  await assert.rejects(sessiond.createSession({subject: ''}),
                       {code: grpc.status.INVALID_ARGUMENT});
});

test('an unreachable server rejects with UNAVAILABLE', async () => {
  const down = new SessiondClient({target: '127.0.0.1:1', timeoutMs: 2000});
  try {
    await assert.rejects(down.validateSession('sess_x'),
                         {code: grpc.status.UNAVAILABLE});
  } finally {
    down.close();
  }
});

test('the example program logs in and out', async () => {
  const example = path.join(__dirname, '..', '..', '..', 'client', 'node',
                            'example.js');
  const {stdout} = await promisify(execFile)(process.execPath, [example, target]);
  assert.match(stdout, /^valid true subject alice$/m);
  assert.match(stdout, /^revoked true$/m);
  assert.match(stdout, /^valid after logout false INVALID_REASON_UNKNOWN$/m);
});
