'use strict';
// Log a user in, check the session as a request handler would, log out.
//
// Usage: node client/node/example.js [TARGET]   (default 127.0.0.1:50051)

const {SessiondClient} = require('./sessiond_client');

async function main() {
  const sessiond = new SessiondClient({target: process.argv[2]});
  try {
    const created = await sessiond.createSession({
      subject: 'alice', ttl: {seconds: 3600},
      client: {ipAddress: '203.0.113.7', userAgent: 'node example'},
    });
    console.log('session', created.session.id);

    const verdict = await sessiond.validateSession(created.token);
    console.log('valid', verdict.valid, 'subject', verdict.session.subject);

    const revoked = await sessiond.revokeSession({token: created.token});
    console.log('revoked', revoked.revoked);
    const after = await sessiond.validateSession(created.token);
    console.log('valid after logout', after.valid, after.reason);
  } finally {
    sessiond.close();
  }
}

main().catch((error) => {
  console.error(`sessiond: ${error.message}`);
  process.exit(1);
});
