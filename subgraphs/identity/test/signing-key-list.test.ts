import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveSecrets } from '@tansu/platform/config';
import type { CallerContext } from '@tansu/platform/context-token';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { TansuError } from '@tansu/platform/errors';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tenantCoreEntities, type Tenant } from '@tansu/tenant-core/entities';
import { provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { tableOwners } from '@tansu/supergraph/tables';
import { identityEntities } from '@tansu/subgraph-identity/entities';
import { createSigningKeyList } from '@tansu/subgraph-identity/signing-key-list';
import { generateSigningKey, rotateSigningKeys } from '@tansu/subgraph-identity/signing-keys';

const KEK = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).keyEncryptionKey;

function adminOf(tenant: Tenant, roles = ['ADMIN']): CallerContext {
  return { tenantId: tenant.id, tenantSlug: tenant.slug, subject: crypto.randomUUID(), roles, scopes: [] };
}

describe('listing signing keys', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let db: Database;
  let acme: Tenant;
  let globex: Tenant;

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    db = await openDatabase({ url: database.appUrl, entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities] });
    cleanups.push(() => db.close());
    acme = await provisionTenant(db, { slug: 'acme', name: 'Acme Corp' });
    globex = await provisionTenant(db, { slug: 'globex', name: 'Globex' });
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const keyCount = (tenant: Tenant) =>
    db.withTenant(tenant.id, async (em) => (await em.execute<{ n: number }[]>('select count(*)::int as n from platform.signing_keys'))[0]!.n);

  it("makes a tenant's first keys, as its JWKS would, so the list is never empty", async () => {
    assert.equal(await keyCount(acme), 0, 'keys are made on first use');
    const list = createSigningKeyList({ db, kek: KEK });
    const keys = await list.list(adminOf(acme));
    assert.deepEqual(
      keys.map((k) => [k.status, k.algorithm, k.retiredAt, k.expiresAt]),
      [
        ['ACTIVE', 'RS256', null, null],
        ['NEXT', 'RS256', null, null],
      ],
    );
    assert.ok(keys.every((k) => k.kid.startsWith(`${acme.id}.`)));
    assert.deepEqual(Object.keys(keys[0]!).sort(), ['algorithm', 'createdAt', 'expiresAt', 'kid', 'retiredAt', 'status'], 'public facts only');
    assert.deepEqual(await list.list(adminOf(acme, ['OWNER'])), keys, 'listing again makes none');
    assert.equal(await keyCount(globex), 0, "another tenant's keys are not made");
  });

  it('shows a rotation: the next key active, the active one retired with the end of its grace', async () => {
    const list = createSigningKeyList({ db, kek: KEK });
    const [active, next] = await list.list(adminOf(acme));
    const [fresh, successor] = await Promise.all([generateSigningKey(KEK, acme.id), generateSigningKey(KEK, acme.id)]);
    await db.withTenant(acme.id, async (em) => {
      await rotateSigningKeys(em, acme.id, fresh, successor);
      await em.flush();
    });
    const keys = await list.list(adminOf(acme));
    assert.deepEqual(
      keys.map((k) => [k.kid, k.status]),
      [
        [next!.kid, 'ACTIVE'],
        [successor.kid, 'NEXT'],
        [active!.kid, 'RETIRED'],
      ],
    );
    const retired = keys[2]!;
    assert.equal(Date.parse(retired.expiresAt!) - Date.parse(retired.retiredAt!), 24 * 3_600_000 + 10 * 60_000);
  });

  it('is refused to members below admin, to applications without tansu:admin and to anonymous callers', async () => {
    const list = createSigningKeyList({ db, kek: KEK });
    const code = (expected: string) => (error: unknown) => error instanceof TansuError && error.code === expected;
    await assert.rejects(list.list(adminOf(globex, ['DEVELOPER'])), code('FORBIDDEN'));
    await assert.rejects(list.list({ ...adminOf(globex), clientId: 'app', scopes: ['tansu:read'] }), code('FORBIDDEN'));
    await assert.rejects(list.list({ roles: [], scopes: [] }), code('UNAUTHENTICATED'));
    assert.equal(await keyCount(globex), 0);
  });
});
