import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { deriveSecrets } from '@tansu/platform/config';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { APP_ROLE } from '@tansu/platform/db/migrate';
import { TansuError } from '@tansu/platform/errors';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { tenantCoreEntities, type Tenant } from '@tansu/tenant-core/entities';
import { provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { ensureSigningKeys } from '@tansu/subgraph-identity/signing-keys';
import { identityEntities } from '@tansu/subgraph-identity/entities';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tableOwners } from '@tansu/supergraph/tables';

const TENANT_TABLES = ['platform.memberships', 'platform.signing_keys', 'platform.outbox', 'identity.users', 'identity.refresh_tokens'];
const SECRETS = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined });
const KEK = SECRETS.keyEncryptionKey;

function hasCode(code: string, field?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof TansuError, `expected a TansuError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (field !== undefined) assert.equal(error.extensions.field, field);
    return true;
  };
}

/** Signing keys (made on identity's first use), a user, a refresh token and a membership, so every tenant-scoped table has rows of the tenant. */
async function seedTenantRows(db: Database, tenantId: string): Promise<void> {
  await db.withTenant(tenantId, async (em) => {
    await ensureSigningKeys(em, KEK, tenantId);
    const userId = randomUUID();
    await em.execute(`insert into identity.users (id, tenant_id, email, password_hash) values (?, ?, ?, 'x')`, [userId, tenantId, `${userId}@example.test`]);
    await em.execute(
      `insert into identity.refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at) values (?, ?, ?, ?, ?, now() + interval '1 day')`,
      [randomUUID(), tenantId, userId, randomUUID(), randomUUID()],
    );
    await em.execute(`insert into platform.memberships (tenant_id, user_id, role) values (?, ?, 'VIEWER')`, [tenantId, userId]);
  });
}

describe('tenancy and row level security', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let db: Database;
  let owner: pg.Client;
  let acme: Tenant;
  let globex: Tenant;

  /** Counts as the owner, which Row Level Security does not filter. */
  async function ownerCount(sql: string, params: unknown[] = []): Promise<number> {
    const { rows } = await owner.query<{ n: number }>(`select count(*)::int as n from ${sql}`, params);
    return rows[0]!.n;
  }

  async function snapshot(): Promise<Record<string, number>> {
    const counts: Record<string, number> = { 'platform.tenants': await ownerCount('platform.tenants') };
    for (const table of TENANT_TABLES) counts[table] = await ownerCount(table);
    return counts;
  }

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    owner = await database.owner();
    db = await openDatabase({ url: database.appUrl, entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities] });
    cleanups.push(() => db.close());

    acme = await provisionTenant(db, { slug: 'acme', name: 'Acme Corp' });
    globex = await provisionTenant(db, { slug: 'globex', name: 'Globex' });
    await seedTenantRows(db, acme.id);
    await seedTenantRows(db, globex.id);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('connects the database as the application role', async () => {
    const rows = await db.global((em) => em.execute<{ role: string }[]>('select current_user as role'));
    assert.equal(rows[0]?.role, APP_ROLE);
  });

  it('provisioned both tenants with a tenant.created event each, and identity gave each one active and one next key', async () => {
    for (const tenant of [acme, globex]) {
      assert.equal(await ownerCount('platform.tenants where id = $1', [tenant.id]), 1);
      assert.equal(await ownerCount(`platform.signing_keys where tenant_id = $1 and status = 'active'`, [tenant.id]), 1);
      assert.equal(await ownerCount(`platform.signing_keys where tenant_id = $1 and status = 'next'`, [tenant.id]), 1);
      assert.equal(await ownerCount(`platform.outbox where tenant_id = $1 and topic = 'tenant.created'`, [tenant.id]), 1);
    }
  });

  it('shows no tenant-scoped row without a tenant context', async () => {
    for (const table of TENANT_TABLES) {
      // The rows exist: only the policy hides them.
      assert.ok((await ownerCount(table)) >= 2, `${table} has no rows to hide`);
      const rows = await db.global((em) => em.execute<{ n: number }[]>(`select count(*)::int as n from ${table}`));
      assert.equal(rows[0]?.n, 0, `${table} is visible without a tenant`);
    }
  });

  it('keeps the tenant registry global', async () => {
    const rows = await db.global((em) => em.execute<{ slug: string }[]>('select slug from platform.tenants order by slug'));
    assert.deepEqual(
      rows.map((r) => r.slug),
      ['acme', 'globex'],
    );
  });

  it("shows only the current tenant's rows", async () => {
    for (const [tenant, other] of [
      [acme, globex],
      [globex, acme],
    ] as const) {
      for (const table of TENANT_TABLES) {
        const rows = await db.withTenant(tenant.id, (em) =>
          em.execute<{ tenant_id: string; n: number }[]>(`select tenant_id, count(*)::int as n from ${table} group by tenant_id`),
        );
        assert.deepEqual(
          rows.map((r) => r.tenant_id),
          [tenant.id],
          `${table} under ${tenant.slug}`,
        );
        assert.ok(rows[0]!.n >= 1);
        // Naming the other tenant explicitly does not get around the policy.
        const named = await db.withTenant(tenant.id, (em) =>
          em.execute<{ n: number }[]>(`select count(*)::int as n from ${table} where tenant_id = ?`, [other.id]),
        );
        assert.equal(named[0]?.n, 0);
      }
    }
  });

  it('refuses to write a row for another tenant', async () => {
    const before = await snapshot();
    const attempts: [string, string, unknown[]][] = [
      ['platform.outbox', `insert into platform.outbox (tenant_id, topic, payload) values (?, 'forged', '{}')`, [globex.id]],
      ['platform.memberships', `insert into platform.memberships (tenant_id, user_id, role) values (?, ?, 'OWNER')`, [globex.id, randomUUID()]],
      [
        'identity.users',
        `insert into identity.users (id, tenant_id, email, password_hash) values (?, ?, 'mallory@example.test', 'x')`,
        [randomUUID(), globex.id],
      ],
    ];
    for (const [table, sql, params] of attempts) {
      await assert.rejects(
        db.withTenant(acme.id, (em) => em.execute(sql, params)),
        /row-level security/,
        `${table} accepted a row of another tenant`,
      );
    }
    // Moving an own row to another tenant is refused too.
    await assert.rejects(
      db.withTenant(acme.id, (em) => em.execute('update identity.users set tenant_id = ?', [globex.id])),
      /row-level security/,
    );
    // Without a tenant context nothing can be written at all.
    await assert.rejects(
      db.global((em) => em.execute(`insert into platform.outbox (tenant_id, topic, payload) values (?, 'forged', '{}')`, [acme.id])),
      /row-level security/,
    );
    assert.deepEqual(await snapshot(), before);
  });

  it("cannot change or delete another tenant's rows", async () => {
    const before = await snapshot();
    const deleted = await db.withTenant(acme.id, (em) =>
      em.execute<{ id: string }[]>('delete from identity.users where tenant_id = ? returning id', [globex.id]),
    );
    assert.equal(deleted.length, 0);
    const updated = await db.withTenant(acme.id, (em) =>
      em.execute<{ id: string }[]>(`update platform.signing_keys set status = 'retired' where tenant_id = ? returning kid`, [globex.id]),
    );
    assert.equal(updated.length, 0);
    assert.deepEqual(await snapshot(), before);
    assert.equal(await ownerCount(`platform.signing_keys where tenant_id = $1 and status = 'active'`, [globex.id]), 1);
  });

  it('gives the application role no way around the policies', async () => {
    const { rows: tables } = await owner.query<{ name: string; tableowner: string; rls: boolean; forced: boolean }>(
      `select t.schemaname || '.' || t.tablename as name, t.tableowner, c.relrowsecurity as rls, c.relforcerowsecurity as forced
       from pg_tables t join pg_class c on c.oid = (quote_ident(t.schemaname) || '.' || quote_ident(t.tablename))::regclass
       where t.schemaname in ('platform', 'identity')`,
    );
    for (const table of TENANT_TABLES) {
      const row = tables.find((t) => t.name === table);
      assert.ok(row, `${table} is missing`);
      assert.notEqual(row.tableowner, APP_ROLE, `${table} is owned by the application role`);
      assert.equal(row.rls, true, `${table} has row level security off`);
    }
    assert.ok(tables.every((t) => t.tableowner !== APP_ROLE));
    const { rows: roles } = await owner.query<{ rolsuper: boolean; rolbypassrls: boolean }>('select rolsuper, rolbypassrls from pg_roles where rolname = $1', [
      APP_ROLE,
    ]);
    assert.deepEqual(roles, [{ rolsuper: false, rolbypassrls: false }]);
    // Nor can it switch the policies off.
    await assert.rejects(
      db.global((em) => em.execute('alter table platform.outbox disable row level security')),
      /owner/,
    );
  });

  describe('provisioning', () => {
    it('makes one pair of signing keys when first uses race', async () => {
      const tenant = await provisionTenant(db, { slug: 'key-race', name: 'Key Race' });
      assert.equal(await ownerCount('platform.signing_keys where tenant_id = $1', [tenant.id]), 0, 'keys are made on first use, not at provisioning');
      await Promise.all([1, 2, 3].map(() => db.withTenant(tenant.id, (em) => ensureSigningKeys(em, KEK, tenant.id))));
      assert.equal(await ownerCount("platform.signing_keys where tenant_id = $1 and status = 'active'", [tenant.id]), 1);
      assert.equal(await ownerCount("platform.signing_keys where tenant_id = $1 and status = 'next'", [tenant.id]), 1);
    });

    it('leaves nothing behind when the transaction fails after its work', async () => {
      const before = await snapshot();
      let tenantId: string | undefined;
      const failing: Database = {
        orm: db.orm,
        global: (work) => db.global(work),
        close: () => db.close(),
        withTenant: (id, work) =>
          db.withTenant(id, async (em) => {
            tenantId = id;
            await work(em);
            // Writes what the work queued so the rollback has the tenant and the event to undo.
            await em.flush();
            throw new Error('failure after provisioning');
          }),
      };
      await assert.rejects(provisionTenant(failing, { slug: 'initech', name: 'Initech' }), /failure after provisioning/);
      assert.ok(tenantId !== undefined);
      assert.equal(await ownerCount('platform.tenants where id = $1 or slug = $2', [tenantId, 'initech']), 0);
      assert.equal(await ownerCount('platform.signing_keys where tenant_id = $1', [tenantId]), 0);
      assert.equal(await ownerCount('platform.outbox where tenant_id = $1', [tenantId]), 0);
      assert.deepEqual(await snapshot(), before);
      // The slug is still free.
      const initech = await provisionTenant(db, { slug: 'initech', name: 'Initech' });
      assert.notEqual(initech.id, tenantId);
      assert.equal(await ownerCount("platform.outbox where tenant_id = $1 and topic = 'tenant.created'", [initech.id]), 1);
    });

    it('refuses a bad or reserved slug and writes nothing', async () => {
      const before = await snapshot();
      for (const slug of ['Bad Slug', 'ab', '-leading-dash', 'trailing-dash-', 'x'.repeat(41), 'acme_corp']) {
        await assert.rejects(provisionTenant(db, { slug, name: 'Whatever' }), hasCode('BAD_USER_INPUT', 'slug'), `accepted ${slug}`);
      }
      for (const slug of ['platform', 'admin', 'identity', 'graphql']) {
        await assert.rejects(provisionTenant(db, { slug, name: 'Whatever' }), hasCode('BAD_USER_INPUT', 'slug'), `accepted reserved ${slug}`);
      }
      await assert.rejects(provisionTenant(db, { slug: 'blank-name', name: '   ' }), hasCode('BAD_USER_INPUT', 'name'));
      assert.deepEqual(await snapshot(), before);
    });

    it('lets the platform itself claim a reserved slug', async () => {
      const tenant = await provisionTenant(db, { slug: 'platform', name: 'Platform' }, { allowReserved: true });
      assert.equal(tenant.slug, 'platform');
    });

    it('refuses a duplicate slug with CONFLICT and writes nothing', async () => {
      const before = await snapshot();
      await assert.rejects(provisionTenant(db, { slug: 'acme', name: 'Acme Again' }), hasCode('CONFLICT'));
      assert.deepEqual(await snapshot(), before);
    });

    it('gives CONFLICT to the loser of two concurrent provisions of one slug', async () => {
      const before = await snapshot();
      const results = await Promise.allSettled([
        provisionTenant(db, { slug: 'umbrella', name: 'Umbrella 1' }),
        provisionTenant(db, { slug: 'umbrella', name: 'Umbrella 2' }),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected');
      assert.equal(fulfilled.length, 1);
      assert.equal(rejected.length, 1);
      hasCode('CONFLICT')((rejected[0] as PromiseRejectedResult).reason);
      const after = await snapshot();
      assert.equal(after['platform.tenants'], before['platform.tenants']! + 1);
      assert.equal(after['platform.outbox'], before['platform.outbox']! + 1);
    });
  });
});
