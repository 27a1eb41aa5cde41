import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { publishSubgraph } from '@tansu/schema/registry/publish-subgraph';
import { createRegistry } from '@tansu/schema/registry/registry';
import { operationsFromRedis, usageFromRedis } from '@tansu/schema/registry/usage-store';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole } from '../support/seed.ts';
import { dataOf, gql, signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow } from '../support/workflows.ts';
import { eventually } from '../support/eventually.ts';
import { createClient } from '../support/ws-client.ts';

const ctx = useTestStack();
const root = (path: string) => new URL(`../../${path}`, import.meta.url);
const DEPRECATED = `{ __type(name: "User") { fields(includeDeprecated: true) { name isDeprecated } } }`;

describe('publishing a schema to running routers', () => {
  let owner: Database;
  let token: string;
  let identitySdl: string;
  let committed: string;

  const publish = (sdl: string, usageAware = false) =>
    publishSubgraph(
      {
        registry: createRegistry(owner),
        redis: ctx.stack.redis,
        namespace: ctx.stack.redisNamespace,
        startingSupergraph: committed,
        usage: usageAware ? usageFromRedis(ctx.stack.redis, ctx.stack.redisNamespace, 'main') : undefined,
        operations: usageAware ? operationsFromRedis(ctx.stack.redis, ctx.stack.redisNamespace, 'main') : undefined,
      },
      { variant: 'main', subgraph: 'identity', sdl, by: 'test' },
    );

  async function disabledDeprecated(): Promise<boolean> {
    const fields = dataOf(await gql<{ __type: { fields: { name: string; isDeprecated: boolean }[] } }>(ctx.stack.graphqlUrl, DEPRECATED, { token })).__type
      .fields;
    return fields.find((f) => f.name === 'disabled')?.isDeprecated ?? false;
  }

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    token = (await signIn(url, 'acme', 'alice@acme.test', 'alice-password')).accessToken;
    owner = await openDatabase({ url: ctx.stack.databaseUrl, entities: [], poolMax: 2 });
    identitySdl = await readFile(root('subgraphs/identity/schema.graphql'), 'utf8');
    committed = await readFile(root('supergraph/supergraph.graphql'), 'utf8');
  });
  after(() => owner.close());

  it('switches routers to a published supergraph under load: no request fails, open subscriptions go on', async () => {
    const url = ctx.stack.graphqlUrl;
    await createWorkflow(url, token, 'slow', [{ id: 'wait', type: 'delay', with: { ms: 1_500 } }]);
    const run = await startWorkflow(url, token, { workflow: 'slow' });
    const ws = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const events: { status: string | null; at: number }[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      ws.subscribe<{ runUpdated: { status: string | null } }>(
        { query: 'subscription($id: ID!) { runUpdated(runId: $id) { status } }', variables: { id: run.id } },
        {
          next: (value) => {
            if (value.data?.runUpdated !== undefined) events.push({ status: value.data.runUpdated.status, at: Date.now() });
            if (value.data?.runUpdated.status === 'SUCCEEDED') resolve();
          },
          error: reject,
          complete: resolve,
        },
      );
    });

    // Four clients keep asking while the schema changes under them.
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const response = await gql(url, 'query Load { me { id email disabled } }', { token }).catch((error: unknown) => ({
          status: 0,
          body: { errors: [{ message: String(error) }] },
        }));
        if (response.status === 200 && response.body.errors === undefined) ok++;
        else failures.push(JSON.stringify(response.body));
      }
    });
    await sleep(300);
    assert.equal(await disabledDeprecated(), false);
    const outcome = await publish(identitySdl.replace('  disabled: Boolean!', '  disabled: Boolean! @deprecated(reason: "use status")'));
    const publishedAt = Date.now();
    assert.equal(outcome.report.passed, true, JSON.stringify(outcome.report.changes));
    assert.ok(outcome.supergraphId);
    assert.ok(await eventually(disabledDeprecated, (deprecated) => deprecated, 60), 'the router serves the published supergraph within 3 s');
    await sleep(300);
    stop = true;
    await Promise.all(load);
    assert.deepEqual(failures, [], 'no request failed');
    assert.ok(ok > 20, `the load ran (${ok} requests)`);

    await finished;
    assert.ok(
      events.some((e) => e.status === 'SUCCEEDED' && e.at > publishedAt),
      'the subscription opened before the publish still delivers after it',
    );
    await ws.dispose();
  });

  it('publishes nothing when the check fails, and keeps every check and version in the registry', async () => {
    const outcome = await publish(identitySdl.replace('  "A disabled user cannot sign in or refresh a session."\n  disabled: Boolean!\n', ''));
    assert.deepEqual(outcome.report.compositionErrors, []);
    assert.equal(outcome.report.passed, false);
    assert.equal(outcome.supergraphId, undefined);
    assert.ok(outcome.report.changes.some((c) => c.kind === 'FIELD_REMOVED' && c.coordinate === 'User.disabled'));
    await sleep(200);
    assert.equal(await disabledDeprecated(), true, 'the routers keep the last published supergraph');

    const again = await publish(identitySdl.replace('  disabled: Boolean!', '  disabled: Boolean! @deprecated(reason: "use status")'));
    assert.equal(again.unchanged, true, 'the same SDL again publishes nothing new');

    const rows = await owner.global((em) =>
      em.execute<{ subgraph: string; published_by: string | null }[]>(
        `select subgraph, published_by from registry.subgraph_versions where variant = 'main' order by id`,
      ),
    );
    assert.deepEqual(
      rows.map((r) => `${r.subgraph}:${r.published_by}`),
      ['registry:baseline', 'tenancy:baseline', 'workflow:baseline', 'identity:test'],
    );
    const checks = await owner.global((em) => em.execute<{ passed: boolean }[]>(`select passed from registry.checks where variant = 'main' order by id`));
    assert.deepEqual(
      checks.map((c) => c.passed),
      [true, false, true],
    );
  });

  it('lets a breaking change through on a field no client used, and stops one on a field clients use', async () => {
    // What the routers saw: the load above read User.disabled, nobody read User.emailVerified.
    await ctx.stack.usage.flush();
    const deprecated = identitySdl.replace('  disabled: Boolean!', '  disabled: Boolean! @deprecated(reason: "use status")');
    const used = await publish(
      deprecated.replace('  "A disabled user cannot sign in or refresh a session."\n  disabled: Boolean! @deprecated(reason: "use status")\n', ''),
      true,
    );
    assert.equal(used.report.passed, false);
    const removal = used.report.changes.find((c) => c.coordinate === 'User.disabled')!;
    assert.ok((removal.uses ?? 0) > 20, `counted ${removal.uses} uses`);
    assert.deepEqual(removal.operations, ['Load'], 'the report names the operation that used it');

    const unusedField = '  "Whether the user followed a link sent to their address (or joined by invitation)."\n  emailVerified: Boolean!\n';
    assert.ok(deprecated.includes(unusedField));
    const unused = await publish(deprecated.replace(unusedField, ''), true);
    assert.equal(unused.report.passed, true, JSON.stringify(unused.report.changes));
    assert.deepEqual(
      unused.report.changes.map((c) => ({ coordinate: c.coordinate, level: c.level, unused: c.unused })),
      [{ coordinate: 'User.emailVerified', level: 'breaking', unused: true }],
    );
    assert.ok(unused.supergraphId, 'published with a warning');
  });
});
