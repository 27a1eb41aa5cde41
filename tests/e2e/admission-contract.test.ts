import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import http from 'node:http';
import pg from 'pg';
import { publishSessionRevocation } from '@tansu/tenant-core/contracts/session-revocations';
import { usageFromRedis } from '@tansu/schema/registry/usage-store';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, type TwoTenants } from '../support/seed.ts';
import { createTenant, dataOf, gql, signIn, signUp, type AuthPayload } from '../support/graphql-client.ts';
import { mintAccessToken } from '../support/tokens.ts';
import { TRANSPORTS, type CallOptions, type Operation, type Outcome } from '../support/transports.ts';

// Every way a caller can be refused, asked over HTTP and over WebSocket: the answer must be the same.
const ANONYMOUS_PER_MINUTE = 30;
const CREDENTIALS_PER_MINUTE = 10;
const ctx = useTestStack({
  // One proxy hop: each case speaks from its own address (X-Forwarded-For), on both transports.
  TANSU_TRUSTED_PROXY_HOPS: '1',
  TANSU_ANONYMOUS_RATE_PER_MINUTE: String(ANONYMOUS_PER_MINUTE),
  TANSU_CREDENTIAL_RATE_PER_MINUTE: String(CREDENTIALS_PER_MINUTE),
  // Introspection off, as in production: errors must not spell out the schema either.
  TANSU_PLAYGROUND: 'false',
  // Low enough for a real query of this schema to pass it.
  TANSU_MAX_DEPTH: '6',
});

type Transport = keyof typeof TRANSPORTS;
const ME: Operation = { query: '{ me { id } }' };

let addresses = 0;
/** A client address no other request of this file has used. */
const freshAddress = () => ({ 'x-forwarded-for': `198.51.${100 + Math.floor(++addresses / 250)}.${addresses % 250}` });

interface Case {
  name: string;
  expect: string;
  run(transport: Transport, call: (operation: Operation, options?: CallOptions) => Promise<Outcome>): Promise<Outcome>;
}

/** Repeats a call until it is refused (or `max` tries), returning the refusal. */
async function untilRefused(call: () => Promise<Outcome>, max: number): Promise<Outcome> {
  let last: Outcome = { code: undefined, message: undefined };
  for (let i = 0; i < max; i++) {
    last = await call();
    if (last.code === 'RATE_LIMITED' || last.code === 'QUOTA_EXCEEDED') return last;
  }
  return last;
}

describe('admission: the same answer over HTTP and WebSocket', () => {
  let seed: TwoTenants;
  let initechUser: AuthPayload;
  let burstUser: AuthPayload;

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    await createTenant(url, seed.admin.accessToken, 'initech', 'Initech');
    initechUser = await signUp(url, 'initech', 'peter@initech.test', 'peter-password');
    dataOf(await gql(url, 'mutation { suspendTenant(slug: "initech") { status } }', { token: seed.admin.accessToken }));
    // A plan of eight requests a minute, for the quota case.
    const admin = new pg.Client({ connectionString: ctx.stack.databaseUrl });
    await admin.connect();
    await admin.query(`insert into platform.plans (id, name, requests_per_minute) values ('contract-burst', 'Burst', 8)`);
    await admin.end();
    await createTenant(url, seed.admin.accessToken, 'burst', 'Burst');
    burstUser = await signUp(url, 'burst', 'bea@burst.test', 'bea-password');
    dataOf(await gql(url, 'mutation { setTenantPlan(tenant: "burst", plan: "contract-burst") { slug } }', { token: seed.admin.accessToken }));
  });

  const cases: Case[] = [
    { name: 'no token, a private field', expect: 'UNAUTHENTICATED', run: (_t, call) => call(ME) },
    { name: 'an Authorization that is not a bearer token', expect: 'UNAUTHENTICATED', run: (_t, call) => call(ME, { authorization: 'Basic dXNlcjpwYXNz' }) },
    { name: 'a token that is not a JWT', expect: 'UNAUTHENTICATED', run: (_t, call) => call(ME, { token: 'not-a-token' }) },
    {
      name: 'an expired token',
      expect: 'UNAUTHENTICATED',
      run: async (_t, call) => call(ME, { token: await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { expiresInSeconds: -60 }) }),
    },
    {
      name: 'a token of an issuer that does not exist',
      expect: 'UNAUTHENTICATED',
      run: async (_t, call) =>
        call(ME, { token: await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { issuer: 'http://tansu.test/identity/nowhere' }) }),
    },
    {
      name: 'a tenant header naming another tenant',
      expect: 'FORBIDDEN',
      run: (_t, call) => call(ME, { token: seed.alice.accessToken, headers: { 'x-tenant-id': 'globex' } }),
    },
    { name: 'a suspended tenant', expect: 'FORBIDDEN', run: (_t, call) => call(ME, { token: initechUser.accessToken }) },
    {
      name: 'a session ended after the token was issued',
      expect: 'UNAUTHENTICATED',
      run: async (_t, call) => {
        const token = await mintAccessToken(ctx.stack.db, seed.globex, seed.bob.user.id);
        await publishSessionRevocation(ctx.stack.redis, ctx.stack.redisNamespace, seed.globex.id, seed.bob.user.id, { now: Date.now() + 1_000 });
        // Every router hears of it within moments.
        let outcome = await call(ME, { token });
        for (let i = 0; i < 50 && outcome.code === undefined; i++) outcome = await call(ME, { token });
        return outcome;
      },
    },
    {
      name: 'an application acting for a user without the scope an operation needs',
      expect: 'FORBIDDEN',
      run: async (_t, call) =>
        call(
          { query: '{ runs(first: 1) { nodes { id } } }' },
          { token: await mintAccessToken(ctx.stack.db, seed.acme, seed.alice.user.id, { roles: ['OWNER'], clientId: 'some-app' }) },
        ),
    },
    {
      name: "a tenant past its plan's requests per minute",
      expect: 'QUOTA_EXCEEDED',
      run: (_t, call) => untilRefused(() => call(ME, { token: burstUser.accessToken }), 20),
    },
    {
      name: 'an address past its requests without a token',
      expect: 'RATE_LIMITED',
      run: (_t, call) => {
        const headers = freshAddress();
        return untilRefused(() => call({ query: '{ __typename }' }, { headers }), ANONYMOUS_PER_MINUTE + 5);
      },
    },
    {
      name: 'an address past its sign-in attempts',
      expect: 'RATE_LIMITED',
      run: (_t, call) => {
        const headers = freshAddress();
        const attempt = {
          query: 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }',
          variables: { i: { tenant: 'acme', email: 'nobody@acme.test', password: 'wrong-password' } },
        };
        return untilRefused(() => call(attempt, { headers }), CREDENTIALS_PER_MINUTE + 5);
      },
    },
    { name: 'a document that does not parse', expect: 'BAD_USER_INPUT', run: (_t, call) => call({ query: '{ me { id ' }, { token: seed.alice.accessToken }) },
    {
      name: 'a field the schema does not have, without naming the fields it does have',
      expect: 'BAD_USER_INPUT',
      run: async (_t, call) => {
        const outcome = await call({ query: '{ me { idd } }' }, { token: seed.alice.accessToken });
        assert.doesNotMatch(outcome.message ?? '', /Did you mean/);
        return outcome;
      },
    },
    {
      name: 'introspection where it is off',
      expect: 'BAD_USER_INPUT',
      run: (_t, call) => call({ query: '{ __schema { types { name } } }' }, { token: seed.alice.accessToken }),
    },
    {
      name: 'a document deeper than the limit',
      expect: 'BAD_USER_INPUT',
      run: async (_t, call) => {
        const outcome = await call({ query: '{ runs { nodes { workflow { createdBy { tenant { plan { id } } } } } } }' }, { token: seed.alice.accessToken });
        assert.match(outcome.message ?? '', /depth 7 exceeds the limit of 6/);
        return outcome;
      },
    },
    {
      name: 'fragments that expand without end',
      expect: 'BAD_USER_INPUT',
      run: (_t, call) => {
        const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on __Schema { ${i === 39 ? 'description' : `...F${i + 1} ...F${i + 1}`} }`).join(
          '\n',
        );
        return call({ query: `{ __schema { ...F0 } }\n${fragments}` }, { token: seed.alice.accessToken });
      },
    },
    {
      name: 'two operations and no operationName',
      expect: 'BAD_USER_INPUT',
      run: (_t, call) => call({ query: 'query A { me { id } } query B { me { email } }' }, { token: seed.alice.accessToken }),
    },
    {
      name: 'an operationName that names none',
      expect: 'BAD_USER_INPUT',
      run: (_t, call) => call({ query: 'query A { me { id } }', operationName: 'C' }, { token: seed.alice.accessToken }),
    },
    {
      name: 'a persisted document id nobody registered',
      expect: 'PERSISTED_DOCUMENT_NOT_FOUND',
      run: (_t, call) => call({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }, { token: seed.alice.accessToken }),
    },
    {
      name: 'a body larger than the limit',
      expect: 'PAYLOAD_TOO_LARGE',
      run: (_t, call) => call({ query: '{ me { id } }', variables: { pad: 'x'.repeat(1_100_000) } }, { token: seed.alice.accessToken }),
    },
  ];

  for (const testCase of cases) {
    it(`refuses ${testCase.name}: ${testCase.expect}`, async () => {
      const outcomes: Record<string, Outcome> = {};
      for (const transport of Object.keys(TRANSPORTS) as Transport[]) {
        const send = TRANSPORTS[transport];
        outcomes[transport] = await testCase.run(transport, (operation, options = {}) =>
          send(ctx.stack.graphqlUrl, operation, { ...options, headers: { ...freshAddress(), ...options.headers } }),
        );
      }
      for (const [transport, outcome] of Object.entries(outcomes)) {
        assert.equal(outcome.code, testCase.expect, `${transport}: ${JSON.stringify(outcome)}`);
      }
    });
  }

  it('admits what it should on both transports: public operations without a token, and a signed-in query', async () => {
    for (const send of Object.values(TRANSPORTS)) {
      const anonymous = await send(
        ctx.stack.graphqlUrl,
        {
          query: 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }',
          variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'alice-password' } },
        },
        { headers: freshAddress() },
      );
      assert.equal(anonymous.code, undefined, JSON.stringify(anonymous));
      const me = await send(ctx.stack.graphqlUrl, ME, { token: seed.alice.accessToken, headers: freshAddress() });
      assert.deepEqual(me.data, { me: { id: seed.alice.user.id } });
    }
  });

  it("records a WebSocket sign-in's address in the audit log, as for HTTP", async () => {
    const owner = await signIn(ctx.stack.graphqlUrl, 'platform', 'admin@tansu.test', 'admin-password-for-tests');
    await TRANSPORTS.ws(
      ctx.stack.graphqlUrl,
      {
        query: 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }',
        variables: { i: { tenant: 'acme', email: 'alice@acme.test', password: 'alice-password' } },
      },
      { headers: { 'x-forwarded-for': '203.0.113.77' } },
    );
    const log = dataOf(
      await gql<{ auditLog: { entries: { action: string; ip: string | null }[] } }>(
        ctx.stack.graphqlUrl,
        '{ auditLog(tenant: "acme", first: 20) { entries { action ip } } }',
        { token: owner.accessToken },
      ),
    ).auditLog.entries;
    assert.ok(
      log.some((entry) => entry.ip === '203.0.113.77'),
      JSON.stringify(log),
    );
  });
});

describe("availability: one client's flood does not lock out another's first request", () => {
  it('admits thirty first requests of a tenant at once, and a real tenant during a flood of made-up issuers', async () => {
    const admin = await signIn(ctx.stack.graphqlUrl, 'platform', 'admin@tansu.test', 'admin-password-for-tests');
    const hooli = await createTenant(ctx.stack.graphqlUrl, admin.accessToken, 'hooli', 'Hooli');
    const umbrella = await createTenant(ctx.stack.graphqlUrl, admin.accessToken, 'umbrella', 'Umbrella');
    // The router has seen no token of these tenants yet: every one of these is a first request.
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => mintAccessToken(ctx.stack.db, hooli, `user-${i}`)));
    const answers = await Promise.all(
      tokens.map((token) => TRANSPORTS.http(ctx.stack.graphqlUrl, { query: '{ __typename }' }, { token, headers: freshAddress() })),
    );
    assert.deepEqual(
      answers.map((a) => a.code ?? 'admitted'),
      tokens.map(() => 'admitted'),
    );

    const flooder = freshAddress();
    const madeUp = await Promise.all(
      Array.from({ length: 60 }, (_, i) => mintAccessToken(ctx.stack.db, hooli, 'mallory', { issuer: `http://tansu.test/identity/made-up-${i}` })),
    );
    const flood = await Promise.all(madeUp.map((token) => TRANSPORTS.http(ctx.stack.graphqlUrl, { query: '{ __typename }' }, { token, headers: flooder })));
    assert.ok(
      flood.some((a) => a.code === 'RATE_LIMITED'),
      'the flooding address is limited',
    );
    assert.ok(
      flood.every((a) => a.code === 'RATE_LIMITED' || a.code === 'UNAUTHENTICATED'),
      JSON.stringify(flood.map((a) => a.code)),
    );
    const real = await TRANSPORTS.http(
      ctx.stack.graphqlUrl,
      { query: '{ __typename }' },
      { token: await mintAccessToken(ctx.stack.db, umbrella, 'first-user'), headers: freshAddress() },
    );
    assert.equal(real.code, undefined, JSON.stringify(real));
  });
});

describe('HTTP: client mistakes answered as such', () => {
  it('tells a subscription sent over HTTP to use graphql-ws at the same URL', async () => {
    const { token } = { token: (await signIn(ctx.stack.graphqlUrl, 'platform', 'admin@tansu.test', 'admin-password-for-tests')).accessToken };
    const outcome = await TRANSPORTS.http(ctx.stack.graphqlUrl, { query: 'subscription { runs { eventId } }' }, { token, headers: freshAddress() });
    assert.equal(outcome.code, 'BAD_USER_INPUT');
    assert.equal(outcome.status, 400);
    assert.match(outcome.message ?? '', /graphql-ws client to this same URL/);
  });

  it('answers a chunked body over the limit 413 and serves the next request on the same connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(ctx.stack.graphqlUrl);
    const send = (chunks: string[]) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        const req = http.request(
          url,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...freshAddress() },
            signal: AbortSignal.timeout(15_000),
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: req.socket }));
          },
        );
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    const big = await send(['{"query":"{ __typename }","variables":{"pad":"', ...Array.from({ length: 24 }, () => 'x'.repeat(64 * 1024)), '"}}']);
    assert.equal(big.status, 413);
    assert.match(big.body, /PAYLOAD_TOO_LARGE/);
    const next = await send(['{"query":"{ __typename }"}']);
    assert.equal(next.status, 200);
    assert.match(next.body, /"__typename":"Query"/);
    agent.destroy();
  });
});

describe('schema usage: what was refused was not used', () => {
  it('records only admitted operations, over either transport', async () => {
    const usage = usageFromRedis(ctx.stack.redis, ctx.stack.redisNamespace, 'main');
    const count = async (coordinate: string) => (await usage([coordinate]))?.get(coordinate) ?? 0;
    await ctx.stack.usage.flush();
    const before = await count('Query.invitations');
    for (const send of Object.values(TRANSPORTS)) {
      const refused = await send(ctx.stack.graphqlUrl, { query: 'query Probe { invitations { email } }' }, { headers: freshAddress() });
      assert.equal(refused.code, 'UNAUTHENTICATED');
    }
    await ctx.stack.usage.flush();
    assert.equal(await count('Query.invitations'), before, 'refused operations count as no use');
    const owner = await signIn(ctx.stack.graphqlUrl, 'platform', 'admin@tansu.test', 'admin-password-for-tests');
    for (const send of Object.values(TRANSPORTS)) {
      const admitted = await send(
        ctx.stack.graphqlUrl,
        { query: 'query Probe { invitations { email } }' },
        { token: owner.accessToken, headers: freshAddress() },
      );
      assert.equal(admitted.code, undefined, JSON.stringify(admitted));
    }
    await ctx.stack.usage.flush();
    assert.equal(await count('Query.invitations'), before + 2);
  });
});
