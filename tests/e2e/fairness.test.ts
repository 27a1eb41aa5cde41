import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useTestStack } from '../support/test-stack.ts';
import { seedTwoTenants, setRole, type TwoTenants } from '../support/seed.ts';
import { signIn } from '../support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../support/workflows.ts';

// One tenant floods the engine; another tenant's run must not wait behind the flood.
const ctx = useTestStack({ TANSU_WORKFLOW_TENANT_CONCURRENCY: '10' });

describe('fair scheduling across tenants', { timeout: 180_000 }, () => {
  let seed: TwoTenants;
  const tokens: Record<string, string> = {};

  before(async () => {
    const url = ctx.stack.graphqlUrl;
    seed = await seedTwoTenants(url);
    for (const [tenant, user, email, password] of [
      ['acme', seed.alice, 'alice@acme.test', 'alice-password'],
      ['globex', seed.bob, 'bob@globex.test', 'bob-password'],
    ] as const) {
      await setRole(url, seed.admin.accessToken, tenant, user.user.id, 'DEVELOPER');
      tokens[tenant] = (await signIn(url, tenant, email, password)).accessToken;
      // A queued step (delay 0), so every run goes through the dispatcher and a worker.
      await createWorkflow(url, tokens[tenant]!, 'tick', [{ id: 'only', type: 'delay', with: { ms: 0 } }]);
    }
  });

  it("runs another tenant's work while one tenant has 10,000 runs queued", async () => {
    // The flood is written straight into acme's tables: 10,000 queued runs, each one ready step.
    const backlog = 10_000;
    await ctx.stack.systemDb.global(async (em) => {
      const [definition] = await em.execute<{ id: string }[]>(`select id from workflow.definitions where tenant_id = ? and name = 'tick'`, [seed.acme.id]);
      await em.execute(
        `insert into workflow.runs (id, tenant_id, definition_id, status, input)
         select gen_random_uuid(), ?, ?, 'QUEUED', '{}'::jsonb from generate_series(1, ?)`,
        [seed.acme.id, definition!.id, backlog],
      );
      await em.execute(
        `insert into workflow.steps (tenant_id, run_id, step_id, status, ready_at)
         select tenant_id, id, 'only', 'READY', now() - interval '1 minute' from workflow.runs where tenant_id = ? and definition_id = ?`,
        [seed.acme.id, definition!.id],
      );
    });
    ctx.stack.engine.nudge();

    const run = await startWorkflow(ctx.stack.graphqlUrl, tokens.globex!, { workflow: 'tick', input: { hello: 'globex' } });
    const done = await waitForRun(ctx.stack.graphqlUrl, tokens.globex!, run.id, ['SUCCEEDED', 'FAILED'], 1_200);
    assert.equal(done.status, 'SUCCEEDED');

    // First come, first served would have drained acme's older backlog before globex's run.
    const [left] = await ctx.stack.systemDb.global((em) =>
      em.execute<{ n: number }[]>(`select count(*)::int as n from workflow.steps where tenant_id = ? and status = 'READY'`, [seed.acme.id]),
    );
    assert.ok(left!.n > backlog / 2, `globex waited for ${backlog - left!.n} of acme's steps`);
  });
});
