import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADMIN, useTestStack } from '../support/test-stack.ts';
import { expectError } from '../support/graphql-client.ts';
import { eventually } from '../support/eventually.ts';

// Persisted-only: the router runs registered operations and nothing else.
const ctx = useTestStack({ TANSU_PERSISTED_DOCUMENTS_ONLY: 'true' });
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const SIGN_IN = 'mutation SignIn($input: SignInInput!) { signIn(input: $input) { accessToken user { email } } }';
const variables = { input: { tenant: 'platform', email: ADMIN.email, password: ADMIN.password } };

describe('persisted documents', () => {
  let dir: string;

  /** `npm run tansu -- schema documents …` against this stack's registry, as an operator runs it. */
  async function register(manifest: unknown, client = 'web'): Promise<{ status: number | null; out: string }> {
    const file = join(dir, `${crypto.randomUUID()}.json`);
    await writeFile(file, JSON.stringify(manifest));
    const run = spawnSync(process.execPath, ['schema/src/cli.ts', 'schema', 'documents', '--client', client, '--manifest', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        DATABASE_URL: ctx.stack.databaseUrl,
        REDIS_URL: ctx.stack.redisUrl,
        TANSU_REDIS_NAMESPACE: ctx.stack.redisNamespace,
        NODE_ENV: 'test',
      },
    });
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  }

  async function post(body: unknown): Promise<{
    status: number;
    body: { data?: { signIn?: { user: { email: string } } } | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  }> {
    const response = await fetch(ctx.stack.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as never };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tansu-documents-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses an unregistered operation with a clear error', async () => {
    const refused = expectError(await post({ query: SIGN_IN, variables }), 'PERSISTED_DOCUMENT_REQUIRED', 400);
    assert.match(refused.message, /registered operations only/);
    expectError(await post({ documentId: `sha256:${sha256(SIGN_IN)}`, variables }), 'PERSISTED_DOCUMENT_NOT_FOUND', 400);
    // A query in the URL of a GET is held to the same rule.
    const get = await fetch(`${ctx.stack.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expectError({ status: get.status, body: (await get.json()) as never }, 'PERSISTED_DOCUMENT_REQUIRED', 400);
  });

  it('registers a manifest only when every operation validates and every id is its hash', async () => {
    const wrongId = await register({ [sha256('query { nope }')]: SIGN_IN });
    assert.equal(wrongId.status, 2, wrongId.out);
    assert.match(wrongId.out, /the id is not the SHA-256 of its body/);
    const invalid = await register({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(SIGN_IN), body: SIGN_IN },
        { id: sha256('{ nope }'), body: '{ nope }' },
      ],
    });
    assert.equal(invalid.status, 1, invalid.out);
    assert.match(invalid.out, /1 of 2 operations do not validate.*nothing was registered/);
    assert.match(invalid.out, /Cannot query field "nope"/);
    expectError(await post({ documentId: sha256(SIGN_IN), variables }), 'PERSISTED_DOCUMENT_NOT_FOUND');

    const ok = await register({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256(SIGN_IN), body: SIGN_IN, name: 'SignIn', type: 'mutation' }],
    });
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /Registered 1 operations of web/);
  });

  it('runs a registered operation by id (GraphQL over HTTP documentId or Apollo persistedQuery), or by its exact text', async () => {
    const byId = await eventually(
      () => post({ documentId: `sha256:${sha256(SIGN_IN)}`, variables }),
      (res) => res.body.errors === undefined,
    );
    assert.equal(byId.body.data?.signIn?.user.email, ADMIN.email, JSON.stringify(byId.body));
    const apollo = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(SIGN_IN) } }, variables });
    assert.equal(apollo.body.data?.signIn?.user.email, ADMIN.email, JSON.stringify(apollo.body));
    const text = await post({ query: SIGN_IN, variables });
    assert.equal(text.body.data?.signIn?.user.email, ADMIN.email);
    // One character off is another operation.
    expectError(await post({ query: `${SIGN_IN} `, variables }), 'PERSISTED_DOCUMENT_REQUIRED');
  });

  it('pushes the registry to the routers again after Redis lost it (schema sync)', async () => {
    await ctx.stack.redis.del(`${ctx.stack.redisNamespace}:schema:main:documents`);
    // Nothing announces a deletion: the routers notice at their next reload (every 5 s).
    const lost = await eventually(
      () => post({ documentId: sha256(SIGN_IN), variables }),
      (res) => res.body.errors !== undefined,
      150,
    );
    expectError(lost, 'PERSISTED_DOCUMENT_NOT_FOUND');
    const run = spawnSync(process.execPath, ['schema/src/cli.ts', 'schema', 'sync'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        DATABASE_URL: ctx.stack.databaseUrl,
        REDIS_URL: ctx.stack.redisUrl,
        TANSU_REDIS_NAMESPACE: ctx.stack.redisNamespace,
        NODE_ENV: 'test',
      },
    });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /1 registered documents pushed/);
    const back = await eventually(
      () => post({ documentId: sha256(SIGN_IN), variables }),
      (res) => res.body.errors === undefined,
    );
    assert.equal(back.body.data?.signIn?.user.email, ADMIN.email, JSON.stringify(back.body));
  });
});
