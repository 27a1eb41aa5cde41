import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTestStack } from '../../../../tests/support/test-stack.ts';
import { seedTwoTenants, setRole } from '../../../../tests/support/seed.ts';
import { signIn } from '../../../../tests/support/graphql-client.ts';
import { createWorkflow, startWorkflow, waitForRun } from '../../../../tests/support/workflows.ts';
import { watchRuns } from '../src/run-watcher.ts';

const ctx = useTestStack();

describe('the run-watcher example', () => {
  it('lists the latest runs, then prints each change as it happens', async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const alice = await signIn(url, 'acme', 'alice@acme.test', 'alice-password');
    // Long enough that its end comes after the live feed is surely open.
    await createWorkflow(url, alice.accessToken, 'watched', [{ id: 'a', type: 'delay', with: { ms: 1_500 } }]);
    const before = await startWorkflow(url, alice.accessToken, { workflow: 'watched' });
    await waitForRun(url, alice.accessToken, before.id, ['SUCCEEDED']);

    const lines: string[] = [];
    const stop = await watchRuns({ url, tenant: 'acme', email: 'alice@acme.test', password: 'alice-password', onLine: (line) => lines.push(line) });
    try {
      assert.deepEqual(lines, [`${before.id} watched SUCCEEDED`]);
      const live = await startWorkflow(url, alice.accessToken, { workflow: 'watched' });
      for (let i = 0; i < 100 && !lines.includes(`${live.id} watched SUCCEEDED`); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(lines.includes(`${live.id} watched SUCCEEDED`), lines.join('\n'));
    } finally {
      stop();
    }
  });
});
