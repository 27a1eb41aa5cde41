import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '@tansu/platform/config';
import { CONTEXT_HEADER, createContextTokenCodec, type CallerContext } from '@tansu/platform/context-token';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { createLogger } from '@tansu/platform/logger';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { compose } from '@tansu/schema/check/compose-variant';
import { publishSubgraph } from '@tansu/schema/registry/publish-subgraph';
import { createRegistry } from '@tansu/schema/registry/registry';
import { addUsage, dayOf, operationsFromRedis, operationsKey, usageFromRedis, type OperationSignature } from '@tansu/schema/registry/usage-store';
import { tableOwners } from '@tansu/supergraph/tables';
import { createRegistrySubgraph } from '../src/create-registry-subgraph.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2030-06-15T12:00:00Z');
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const BOOKS_V1 = `${LINK}
type Query { books: [Book!]! }
type Book @key(fields: "id") { id: ID! title: String! legacyCode: String @deprecated(reason: "use id") }`;
const BOOKS_V2 = BOOKS_V1.replace('title: String!', 'title: String! pages: Int');
const BOOKS_WITHOUT_TITLE = BOOKS_V2.replace('title: String! ', '');
const AUTHORS = `${LINK}
type Query { authors: [Author!]! }
type Author { name: String! }`;
const STARTING = compose([
  { name: 'books', url: 'http://books.test/graphql', sdl: BOOKS_V1 },
  { name: 'authors', url: 'http://authors.test/graphql', sdl: AUTHORS },
]).supergraphSdl!;

const codecKey = randomBytes(32);
const codec = createContextTokenCodec(codecKey);
const admin: CallerContext = { tenantId: randomUUID(), tenantSlug: 'platform', subject: randomUUID(), roles: ['ADMIN'], scopes: [] };
const tenantOwner: CallerContext = { tenantId: randomUUID(), tenantSlug: 'acme', subject: randomUUID(), roles: ['OWNER'], scopes: [] };
const adminsApp: CallerContext = { ...admin, clientId: 'dashboard', scopes: ['tansu:read', 'tansu:write'] };

interface Answer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

describe('the registry subgraph', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let owner: Database;
  let app: Database;
  let redis: Redis;
  let url: string;
  const namespace = `registry-${randomUUID()}`;
  const versionIds: string[] = [];
  let liveSupergraph: string;

  async function ask<T>(caller: CallerContext | undefined, query: string, variables: Record<string, unknown> = {}): Promise<Answer<T>> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(caller === undefined ? {} : { [CONTEXT_HEADER]: codec.sign(caller) }) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer<T>;
  }

  async function data<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const answer = await ask<T>(admin, query, variables);
    assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
    return answer.data!;
  }

  async function refused(
    caller: CallerContext,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<{ code?: string; field?: string; message: string }> {
    const answer = await ask(caller, query, variables);
    const error = answer.errors?.[0];
    assert.ok(error !== undefined, `expected an error, got ${JSON.stringify(answer)}`);
    return { ...error.extensions, message: error.message };
  }

  const publish = (sdl: string, usageAware = false) =>
    publishSubgraph(
      {
        registry: createRegistry(owner),
        redis,
        namespace,
        startingSupergraph: STARTING,
        usage: usageAware ? usageFromRedis(redis, namespace, 'staging', 30, NOW) : undefined,
        operations: usageAware ? operationsFromRedis(redis, namespace, 'staging', 30, NOW) : undefined,
      },
      { variant: 'staging', subgraph: 'books', sdl, by: 'ci' },
    );

  const signature = (name: string, coordinates: string[]): OperationSignature => ({ name, coordinates });

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    owner = await openDatabase({ url: database.url, entities: [], poolMax: 2 });
    cleanups.push(() => owner.close());
    app = await openDatabase({ url: database.appUrl, entities: [], poolMax: 2 });
    cleanups.push(() => app.close());
    redis = new Redis(database.redisUrl);
    cleanups.push(async () => redis.disconnect());

    // Two versions of books published to staging, then a removal of a used field refused.
    const first = await publish(BOOKS_V1);
    assert.ok(first.supergraphId);
    const second = await publish(BOOKS_V2);
    assert.ok(second.supergraphId);
    liveSupergraph = second.supergraphId;
    const shelf = signature('Shelf', ['Query', 'Query.books', 'Book', 'Book.title']);
    await addUsage(
      redis,
      namespace,
      'staging',
      new Map([
        ['Query.books', 5],
        ['Book.title', 5],
        ['Book', 5],
        ['Query', 5],
      ]),
      new Map([['shelf', { signature: shelf, count: 5 }]]),
      {
        now: NOW,
      },
    );
    const ids = signature('Ids', ['Query', 'Query.books', 'Book', 'Book.id']);
    await addUsage(
      redis,
      namespace,
      'staging',
      new Map([
        ['Query.books', 2],
        ['Book.id', 2],
      ]),
      new Map([['ids', { signature: ids, count: 2 }]]),
      { now: NOW - DAY },
    );
    // Four days back: outside a window of 4 days (today and the 3 before), inside one of 5.
    const names = signature('Names', ['Query', 'Query.authors', 'Author', 'Author.name']);
    await addUsage(
      redis,
      namespace,
      'staging',
      new Map([
        ['Query.authors', 3],
        ['Author.name', 3],
      ]),
      new Map([['names', { signature: names, count: 3 }]]),
      {
        now: NOW - 4 * DAY,
      },
    );
    const refusedPublish = await publish(BOOKS_WITHOUT_TITLE, true);
    assert.equal(refusedPublish.report.passed, false);

    // A registered operation, and a variant only checked so far, with a report an earlier version stored.
    await owner.global(async (em) => {
      await em.execute(`insert into registry.persisted_documents (variant, hash, document, client_name) values ('staging', 'abc', '{ books { id } }', 'web')`);
      await em.execute(
        `insert into registry.checks (variant, subgraph, sdl_hash, passed, report) values ('preview', 'books', 'h', true, '{"subgraph": "books"}')`,
      );
      const rows = await em.execute<{ id: string }[]>(
        `select id::text as id from registry.subgraph_versions where variant = 'staging' and subgraph = 'books' order by id`,
      );
      versionIds.push(...rows.map((r) => r.id));
    });

    const { server } = await createRegistrySubgraph({
      db: app,
      redis,
      codec,
      logger: createLogger({ level: 'silent', service: 'registry-test' }),
      config: loadConfig({ NODE_ENV: 'test', TANSU_SECRET: TEST_SECRET, TANSU_REDIS_NAMESPACE: namespace, TANSU_SCHEMA_VARIANT: 'main' }),
      committedSupergraph: STARTING,
      now: () => NOW,
    });
    const port = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    url = `http://127.0.0.1:${port}/graphql`;
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('lists every variant with its live supergraph and latest subgraph versions, and the served one before its first publish', async () => {
    const { schemaVariants } = await data<{
      schemaVariants: {
        name: string;
        served: boolean;
        supergraphId: string | null;
        publishedAt: string | null;
        documentCount: number;
        subgraphs: { name: string; url: string; versionId: string; publishedBy: string | null; sdlHash: string; publishedAt: string }[];
      }[];
    }>(`{ schemaVariants { name served supergraphId publishedAt documentCount subgraphs { name url versionId publishedBy sdlHash publishedAt } } }`);
    assert.deepEqual(
      schemaVariants.map((v) => [v.name, v.served, v.supergraphId, v.documentCount]),
      [
        ['main', true, null, 0],
        ['preview', false, null, 0],
        ['staging', false, liveSupergraph, 1],
      ],
    );
    const staging = schemaVariants[2]!;
    assert.ok(Date.parse(staging.publishedAt!) > 0);
    assert.deepEqual(
      staging.subgraphs.map((s) => [s.name, s.url, s.publishedBy]),
      [
        ['authors', 'http://authors.test/graphql', 'baseline'],
        ['books', 'http://books.test/graphql', 'ci'],
      ],
    );
    assert.equal(staging.subgraphs[1]!.versionId, versionIds.at(-1));
    assert.match(staging.subgraphs[1]!.sdlHash, /^[0-9a-f]{64}$/);
  });

  it('pages through checks newest first, with the failing report structured', async () => {
    type Check = {
      id: string;
      subgraph: string;
      passed: boolean;
      report: {
        compositionErrors: string[];
        usageAware: boolean;
        documentErrors: { name: string; errors: string[] }[];
        changes: { kind: string; level: string; coordinate: string; message: string; blocking: boolean; uses: number | null; operations: string[] | null }[];
      };
    };
    const query = `query($variant: String!, $subgraph: String, $first: Int, $after: String) {
      schemaChecks(variant: $variant, subgraph: $subgraph, first: $first, after: $after) {
        nodes { id subgraph passed report { compositionErrors usageAware documentErrors { name errors } changes { kind level coordinate message blocking uses operations } } }
        endCursor hasMore
      }
    }`;
    type Page = { schemaChecks: { nodes: Check[]; endCursor: string | null; hasMore: boolean } };
    const firstPage = (await data<Page>(query, { variant: 'staging', first: 1 })).schemaChecks;
    assert.equal(firstPage.hasMore, true);
    const failing = firstPage.nodes[0]!;
    assert.equal(failing.passed, false);
    assert.equal(failing.report.usageAware, true);
    const removal = failing.report.changes[0]!;
    assert.deepEqual(removal, {
      kind: 'FIELD_REMOVED',
      level: 'BREAKING',
      coordinate: 'Book.title',
      message: removal.message,
      blocking: true,
      uses: 5,
      operations: ['Shelf'],
    });
    assert.match(removal.message, /Book\.title/);

    const rest = (await data<Page>(query, { variant: 'staging', first: 10, after: firstPage.endCursor })).schemaChecks;
    assert.equal(rest.hasMore, false);
    assert.deepEqual(
      rest.nodes.map((c) => c.passed),
      [true, true],
    );
    assert.ok(BigInt(rest.nodes[0]!.id) < BigInt(failing.id));
    const added = rest.nodes[0]!.report.changes.find((c) => c.coordinate === 'Book.pages');
    assert.deepEqual(added && { level: added.level, blocking: added.blocking, uses: added.uses }, { level: 'SAFE', blocking: false, uses: null });

    // A report stored by an earlier version reads with empty parts.
    const preview = (await data<Page>(query, { variant: 'preview', subgraph: 'books' })).schemaChecks.nodes;
    assert.deepEqual(preview[0]!.report, { compositionErrors: [], usageAware: false, documentErrors: [], changes: [] });
    assert.deepEqual((await data<Page>(query, { variant: 'staging', subgraph: 'authors' })).schemaChecks, { nodes: [], endCursor: null, hasMore: false });
  });

  it("lists a subgraph's versions newest first", async () => {
    const { schemaVersions } = await data<{ schemaVersions: { nodes: { id: string; publishedBy: string; sdlHash: string }[]; hasMore: boolean } }>(
      `{ schemaVersions(variant: "staging", subgraph: "books") { nodes { id publishedBy sdlHash } hasMore } }`,
    );
    assert.deepEqual(
      schemaVersions.nodes.map((v) => v.id),
      [...versionIds].reverse(),
    );
    assert.equal(schemaVersions.hasMore, false);
    assert.notEqual(schemaVersions.nodes[0]!.sdlHash, schemaVersions.nodes[1]!.sdlHash);
  });

  it('counts every field of the live schema over the window, most used first, unused at 0', async () => {
    type Usage = { schemaUsage: { coordinate: string; count: number; isDeprecated: boolean; operations: { name: string; count: number }[] }[] };
    const query = `query($days: Int) { schemaUsage(variant: "staging", days: $days) { coordinate count isDeprecated operations { name count } } }`;
    const week = (await data<Usage>(query, { days: 7 })).schemaUsage;
    assert.deepEqual(
      week.slice(0, 5).map((f) => [f.coordinate, f.count]),
      [
        ['Query.books', 7],
        ['Book.title', 5],
        ['Query.authors', 3],
        ['Author.name', 3],
        ['Book.id', 2],
      ].sort((a, b) => (b[1] as number) - (a[1] as number) || String(a[0]).localeCompare(String(b[0]))),
    );
    const byCoordinate = new Map(week.map((f) => [f.coordinate, f]));
    // Book.pages came with the live version: in the schema, never used.
    assert.deepEqual(byCoordinate.get('Book.pages'), { coordinate: 'Book.pages', count: 0, isDeprecated: false, operations: [] });
    assert.equal(byCoordinate.get('Book.legacyCode')?.isDeprecated, true);
    assert.deepEqual(byCoordinate.get('Query.books')?.operations, [
      { name: 'Shelf', count: 5 },
      { name: 'Ids', count: 2 },
    ]);
    assert.ok(!byCoordinate.has('Book.__typename') && ![...byCoordinate.keys()].some((c) => c.startsWith('__')));

    const fourDays = new Map((await data<Usage>(query, { days: 4 })).schemaUsage.map((f) => [f.coordinate, f.count]));
    assert.equal(fourDays.get('Author.name'), 0, 'four days ago is outside a four-day window');
    assert.equal(fourDays.get('Book.id'), 2);
  });

  it('lists the operations seen, and serves the committed schema for the served variant before its first publish', async () => {
    const { schemaOperations } = await data<{ schemaOperations: { name: string; count: number; coordinates: string[] }[] }>(
      `{ schemaOperations(variant: "staging", days: 35) { name count coordinates } }`,
    );
    assert.deepEqual(
      schemaOperations.map((o) => [o.name, o.count]),
      [
        ['Shelf', 5],
        ['Names', 3],
        ['Ids', 2],
      ],
    );
    assert.ok(schemaOperations[0]!.coordinates.includes('Book.title'));
    const main = (await data<{ schemaUsage: { coordinate: string; count: number }[] }>(`{ schemaUsage(variant: "main") { coordinate count } }`)).schemaUsage;
    assert.ok(main.some((f) => f.coordinate === 'Book.title') && !main.some((f) => f.coordinate === 'Book.pages'));
    assert.ok(main.every((f) => f.count === 0));
  });

  it('names operations counted the way earlier versions of the routers listed them', async () => {
    const day = operationsKey(namespace, 'legacy', dayOf(NOW - DAY));
    await redis.hset(day, 'old', '4');
    await redis.hset(`${namespace}:schema:legacy:signatures`, 'old', JSON.stringify(signature('Before', ['Query.books'])));
    await addUsage(
      redis,
      namespace,
      'legacy',
      new Map([['Query.books', 1]]),
      new Map([['new', { signature: signature('After', ['Query.books']), count: 1 }]]),
      {
        now: NOW,
      },
    );
    const { schemaOperations } = await data<{ schemaOperations: { id: string; name: string; count: number }[] }>(
      `{ schemaOperations(variant: "legacy", days: 2) { id name count } }`,
    );
    assert.deepEqual(schemaOperations, [
      { id: 'old', name: 'Before', count: 4 },
      { id: 'new', name: 'After', count: 1 },
    ]);
  });

  it('refuses bad input with BAD_USER_INPUT naming the argument, and an unknown variant with NOT_FOUND', async () => {
    for (const days of [0, 36, -1]) {
      const error = await refused(admin, `query($d: Int) { schemaUsage(variant: "staging", days: $d) { coordinate } }`, { d: days });
      assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', 'days']);
      assert.match(error.message, /between 1 and 35/);
    }
    const cases: [string, Record<string, unknown>, string][] = [
      ['query($v: String!) { schemaChecks(variant: $v) { hasMore } }', { v: 'Not A Variant' }, 'variant'],
      ['{ schemaChecks(variant: "staging", first: 0) { hasMore } }', {}, 'first'],
      ['{ schemaChecks(variant: "staging", first: 101) { hasMore } }', {}, 'first'],
      ['{ schemaChecks(variant: "staging", after: "not-a-cursor") { hasMore } }', {}, 'after'],
      ['{ schemaVersions(variant: "staging", subgraph: "") { hasMore } }', {}, 'subgraph'],
      ['{ schemaOperations(variant: "staging", days: null) { name } }', {}, 'days'],
    ];
    for (const [query, variables, field] of cases) {
      const error = await refused(admin, query, variables);
      assert.deepEqual([error.code, error.field], ['BAD_USER_INPUT', field], query);
    }
    const unknown = await refused(admin, '{ schemaUsage(variant: "nowhere") { coordinate } }');
    assert.equal(unknown.code, 'NOT_FOUND');
  });

  it('answers platform administrators only', async () => {
    const queries = [
      '{ schemaVariants { name } }',
      '{ schemaChecks(variant: "staging") { hasMore } }',
      '{ schemaVersions(variant: "staging", subgraph: "books") { hasMore } }',
      '{ schemaUsage(variant: "staging") { coordinate } }',
      '{ schemaOperations(variant: "staging") { name } }',
    ];
    for (const query of queries) {
      assert.equal((await refused(tenantOwner, query)).code, 'FORBIDDEN', query);
      const app = await refused(adminsApp, query);
      assert.equal(app.code, 'FORBIDDEN', query);
      assert.match(app.message, /tansu:admin/);
      assert.equal((await refused({ roles: [], scopes: [] }, query)).code, 'UNAUTHENTICATED', query);
    }
    const unsigned = await ask(undefined, '{ schemaVariants { name } }');
    assert.equal(unsigned.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  it('reads the registry as the application role, which may not write it nor read SDL or registered documents', async () => {
    const rows = await app.global((em) => em.execute<{ role: string; n: number }[]>(`select current_user as role, count(*)::int as n from registry.checks`));
    assert.equal(rows[0]?.role, 'tansu_app');
    assert.ok(rows[0]!.n >= 4);
    for (const statement of [
      `insert into registry.checks (variant, subgraph, sdl_hash, passed, report) values ('x', 'y', 'z', true, '{}')`,
      `update registry.subgraph_versions set published_by = 'someone'`,
      `delete from registry.supergraphs`,
      `select document from registry.persisted_documents`,
      `select sdl from registry.subgraph_versions`,
    ]) {
      await assert.rejects(
        app.global((em) => em.execute(statement)),
        (error: unknown) => error instanceof Error && /permission denied/.test(error.message),
        statement,
      );
    }
  });
});
