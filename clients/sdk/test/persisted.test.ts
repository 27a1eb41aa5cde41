import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { parse, specifiedRules, validate } from 'graphql';
import { SDK_OPERATIONS, TansuError, createTansuClient, graphql, persistedManifest } from '@tansu/client';
import { ADMIN, useTestStack } from '../../../tests/support/test-stack.ts';

// A router that runs registered operations only: the SDK's manifest registers what it sends.
const ctx = useTestStack({ TANSU_PERSISTED_DOCUMENTS_ONLY: 'true' });
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const ME = graphql(`
  query PersistedMe {
    me {
      email
    }
  }
`);

describe('persisted documents from the SDK', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tansu-sdk-manifest-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('names each operation by the SHA-256 of the exact text the SDK sends', async () => {
    const manifest = await persistedManifest([...SDK_OPERATIONS, ME, ME]);
    assert.equal(manifest.format, 'apollo-persisted-query-manifest');
    assert.equal(manifest.operations.length, SDK_OPERATIONS.length + 1, 'one entry per document');
    for (const operation of manifest.operations) assert.equal(operation.id, createHash('sha256').update(operation.body).digest('hex'));
    assert.deepEqual(manifest.operations.find((o) => o.name === 'PersistedMe')?.type, 'query');
  });

  it("asks only for the public API's fields", async () => {
    const api = Supergraph.build(await readFile(join(ROOT, 'supergraph/supergraph.graphql'), 'utf8'))
      .apiSchema()
      .toGraphQLJSSchema();
    for (const operation of (await persistedManifest(SDK_OPERATIONS)).operations) {
      assert.deepEqual(
        validate(api, parse(operation.body), specifiedRules).map((e) => e.message),
        [],
        operation.name ?? operation.id,
      );
    }
  });

  it('signs in and queries by id once the manifest is registered, and is refused before', async () => {
    const client = createTansuClient({ url: ctx.stack.graphqlUrl, tenant: 'platform', persistedDocuments: true });
    const early = await client.auth.signIn({ email: ADMIN.email, password: ADMIN.password }).catch((error: unknown) => error);
    assert.ok(early instanceof TansuError);
    assert.equal(early.code, 'PERSISTED_DOCUMENT_NOT_FOUND');

    const file = join(dir, 'manifest.json');
    await writeFile(file, JSON.stringify(await persistedManifest([...SDK_OPERATIONS, ME])));
    const run = spawnSync(process.execPath, ['schema/src/cli.ts', 'schema', 'documents', '--client', 'sdk', '--manifest', file], {
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

    for (let attempt = 0; ; attempt++) {
      const result = await client.auth.signIn({ email: ADMIN.email, password: ADMIN.password }).catch((error: unknown) => error);
      // Routers learn registrations from the registry's announcement, within moments.
      if (result instanceof TansuError && result.code === 'PERSISTED_DOCUMENT_NOT_FOUND' && attempt < 50) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      assert.ok(!(result instanceof Error), String(result));
      break;
    }
    assert.equal((await client.request(ME)).me?.email, ADMIN.email);
    client.close();
  });
});
