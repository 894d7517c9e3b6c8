'use strict';
// A small Node client for sessiond (session.v1.SessionService), on
// @grpc/grpc-js with the API loaded from the .proto at run time by
// @grpc/proto-loader: no generated code to keep in step.
//
// Example:
//   const {SessiondClient} = require('./sessiond_client');
//   const sessiond = new SessiondClient({target: '127.0.0.1:50051'});
//   const created = await sessiond.createSession({subject: 'alice'});
//   const verdict = await sessiond.validateSession(created.token);
//   sessiond.close();
//
// Every method returns a promise of the response (field names in
// lowerCamelCase, enums as strings, durations as {seconds, nanos}); a failed
// call rejects with grpc-js's error (`code`, `details`). An invalid session is
// not an error: validateSession resolves with valid=false and a reason.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_PROTO = path.join(__dirname, '..', '..', 'protos', 'session',
                                'v1', 'session.proto');

// gRPC repeats a call that failed with UNAVAILABLE only where repeating is
// harmless: reads and revokes. Create and Rotate are not retried: if only
// the answer was lost, a repeat makes a second session or trips reuse
// detection (see client/service_config.h).
const SERVICE_CONFIG = {
  methodConfig: [{
    name: ['ValidateSession', 'ListSessions', 'RevokeSession',
           'RevokeSubjectSessions']
              .map((method) => ({service: 'session.v1.SessionService', method})),
    retryPolicy: {
      maxAttempts: 4,
      initialBackoff: '0.1s',
      maxBackoff: '1s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE'],
    },
  }],
  retryThrottling: {maxTokens: 10, tokenRatio: 0.1},
};

class SessiondClient {
  // target: host:port of sessiond. timeoutMs: deadline of each call,
  // retries included. credentials: grpc.credentials.createSsl(...) for TLS or
  // mTLS; plaintext by default, which is only fit for loopback.
  constructor({target = '127.0.0.1:50051', timeoutMs = 5000,
               credentials = grpc.credentials.createInsecure(),
               protoPath = DEFAULT_PROTO} = {}) {
    const definition = protoLoader.loadSync(protoPath, {
      longs: String, enums: String, defaults: true, oneofs: true,
    });
    const {SessionService} = grpc.loadPackageDefinition(definition).session.v1;
    this.stub = new SessionService(target, credentials, {
      'grpc.service_config': JSON.stringify(SERVICE_CONFIG),
      'grpc.primary_user_agent': 'sessiond-client-node',
    });
    this.timeoutMs = timeoutMs;
  }

  call(method, request) {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.timeoutMs);
      this.stub[method](request, {deadline}, (error, response) => {
        if (error) reject(error); else resolve(response);
      });
    });
  }

  // request: {subject, attributes, ttl, idleTimeout, client, requestId};
  // durations as {seconds}. The token and cookie are shown only here.
  createSession(request) { return this.call('CreateSession', request); }

  validateSession(token) { return this.call('ValidateSession', {token}); }

  // target: {token} or {sessionId}.
  revokeSession(target) { return this.call('RevokeSession', target); }

  // With attributes (possibly {}), they replace the session's.
  rotateSession(token, {attributes} = {}) {
    return this.call('RotateSession', {
      token, attributes: attributes || {},
      replaceAttributes: attributes !== undefined,
    });
  }

  revokeSubjectSessions(subject, {exceptSessionId = ''} = {}) {
    return this.call('RevokeSubjectSessions', {subject, exceptSessionId});
  }

  listSessions(subject, {pageSize = 0, pageToken = ''} = {}) {
    return this.call('ListSessions', {subject, pageSize, pageToken});
  }

  close() { this.stub.close(); }
}

module.exports = {SessiondClient, grpc};
