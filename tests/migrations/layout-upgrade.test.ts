import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { migrate } from '@tansu/platform/db/migrate';
import { TEST_APP_PASSWORD, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tableOwners } from '@tansu/supergraph/tables';
import { catalogSnapshot } from '../support/catalog-snapshot.ts';

// The catalog of a database migrated when every migration still lived in the kernel (the
// layout before each owner kept its tables), taken with catalogSnapshot: tables, columns,
// constraints, indexes, policies, triggers, functions, grants, seeded rows and the names of
// the applied migrations.
const BEFORE_OWNERS = new URL('./fixtures/catalog-before-owners.txt', import.meta.url);
// What migrations and grants written since changed in that catalog, fact by fact.
const SINCE_OWNERS = new URL('./fixtures/catalog-since-owners.txt', import.meta.url);

/** Code-unit order, as catalogSnapshot sorts. */
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The catalog before the move with the later changes applied. A change that does not apply (an
 * added fact already there, a removed one missing) is an error, so the list stays exact.
 */
function catalogSince(before: string, changes: string): string {
  const facts = new Set(before.trimEnd().split('\n'));
  for (const line of changes.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fact = line.slice(2);
    if (line.startsWith('+ ') && !facts.has(fact)) facts.add(fact);
    else if (line.startsWith('- ') && facts.has(fact)) facts.delete(fact);
    else throw new Error(`catalog-since-owners.txt: "${line}" does not apply to the catalog before the move`);
  }
  return [...facts].sort(byCodeUnit).join('\n');
}

/** Every user table's rows, hashed, so any change to data shows. */
async function dataDigest(client: pg.Client): Promise<Record<string, string>> {
  const { rows: tables } = await client.query<{ name: string }>(
    `select quote_ident(schemaname) || '.' || quote_ident(tablename) as name from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema') order by 1`,
  );
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await client.query<{ md5: string | null; n: number }>(
      `select md5(string_agg(t::text, '|' order by t::text)) as md5, count(*)::int as n from ${name} t`,
    );
    digest[name] = `${rows[0]!.n}:${rows[0]!.md5 ?? ''}`;
  }
  return digest;
}

describe('migrations beside their owners', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let owner: pg.Client;

  before(async () => {
    database = await openTestDatabase({ tables: tableOwners });
    owner = await database.owner();
  });
  after(() => database.close());

  it('build exactly the database the kernel-held migrations built, under the same recorded names, plus what was added since', async () => {
    const expected = catalogSince(await readFile(BEFORE_OWNERS, 'utf8'), await readFile(SINCE_OWNERS, 'utf8'));
    const actual = await catalogSnapshot(owner);
    assert.equal(actual.trimEnd(), expected);
  });

  it('find nothing pending in a database migrated before the move, and touch none of its rows', async () => {
    // Rows in tables of every owner, written the way the previous layout's code wrote them.
    const tenantId = crypto.randomUUID();
    const userId = crypto.randomUUID();
    await owner.query(`insert into platform.tenants (id, slug, name, settings, plan) values ($1, 'upgrade', 'Upgrade', '{}', 'free')`, [tenantId]);
    await owner.query(`insert into identity.users (id, tenant_id, email, password_hash) values ($1, $2, 'a@upgrade.test', 'x')`, [userId, tenantId]);
    await owner.query(`insert into platform.memberships (tenant_id, user_id, role) values ($1, $2, 'OWNER')`, [tenantId, userId]);
    await owner.query(`insert into workflow.definitions (id, tenant_id, name, version, spec) values ($1, $2, 'w', 1, '{}')`, [crypto.randomUUID(), tenantId]);
    const catalog = await catalogSnapshot(owner);
    const data = await dataDigest(owner);

    const { applied } = await migrate({ ownerUrl: database.url, appPassword: TEST_APP_PASSWORD, owners: await tableOwners() });

    assert.deepEqual(applied, []);
    assert.equal(await catalogSnapshot(owner), catalog);
    assert.deepEqual(await dataDigest(owner), data);
    assert.equal(data['platform.tenants']?.startsWith('1:'), true, 'the digest covers the rows written here');
  });
});
