import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MappingScope } from '@tansu/subgraph-workflow/definitions/mapping';
import { validateWorkflowSpec, type StepDefinition } from '@tansu/subgraph-workflow/definitions/workflow-definition';
import { finalFailure, isRunnable, planRun, readinessOf, retryDecision, runOutput, type LoadedStep } from '@tansu/subgraph-workflow/engine/state-machine';

function spec(steps: unknown[]) {
  return validateWorkflowSpec({ steps });
}

function step(raw: Record<string, unknown>): StepDefinition {
  return spec([raw]).steps[0]!;
}

const scope: MappingScope = { input: { wait: 250, event: 'order.paid', customer: 'c-1' }, steps: {}, run: { id: 'run-1' } };

function rows(statuses: Record<string, LoadedStep['status']>): Map<string, LoadedStep> {
  return new Map(Object.entries(statuses).map(([id, status]) => [id, { step_id: id, status, attempt: 0, output: null }]));
}

describe('readinessOf', () => {
  it('makes a delay ready after the number of milliseconds its mapping resolves to', () => {
    assert.deepEqual(readinessOf(step({ id: 'd', type: 'delay', with: { ms: '$.input.wait' } }), scope), { kind: 'delayed', ms: 250 });
  });

  it('fails a delay whose mapping resolves to something other than a duration, for good', () => {
    const next = readinessOf(step({ id: 'd', type: 'delay', with: { ms: '$.input.customer' } }), scope);
    assert.equal(next.kind, 'failed');
    assert.deepEqual(next.kind === 'failed' && next.failure, {
      message: 'delay "ms" resolved to "c-1", not a duration',
      code: 'BAD_MAPPING',
      retryable: false,
    });
  });

  it('puts a waitForEvent step to wait for the event and match its mappings resolve to', () => {
    const def = step({ id: 'w', type: 'waitForEvent', with: { event: '$.input.event', match: { customer: '$.input.customer' }, timeoutMs: 1000 } });
    assert.deepEqual(readinessOf(def, scope), { kind: 'waiting', wait: { event: 'order.paid', match: { customer: 'c-1' } }, timeoutMs: 1000 });
  });

  it('fails a waitForEvent step whose event name resolves to no name', () => {
    const next = readinessOf(step({ id: 'w', type: 'waitForEvent', with: { event: '$.input.missing' } }), scope);
    assert.equal(next.kind === 'failed' && next.failure.code, 'BAD_MAPPING');
  });

  it('makes any other step ready at once', () => {
    assert.deepEqual(readinessOf(step({ id: 'h', type: 'http', with: { url: 'https://example.test/' } }), scope), { kind: 'ready' });
  });
});

describe('retryDecision', () => {
  const def = step({ id: 'h', type: 'http', with: { url: 'https://example.test/' }, retry: { maxAttempts: 3, nonRetryable: ['HTTP_429'] } });
  const failure = { message: 'HTTP 503', code: 'HTTP_5XX', retryable: true };

  it('retries while attempts remain, after a backoff within the policy', () => {
    const decision = retryDecision(def, failure, 1);
    assert.equal(decision.retry, true);
    const delay = decision.retry ? decision.delayMs : -1;
    assert.ok(delay >= def.retry.initialDelayMs / 2 && delay <= def.retry.initialDelayMs, `delay ${delay}`);
  });

  it('ends the step once the attempts are used up, or when the failure or the policy says it is final', () => {
    assert.deepEqual(retryDecision(def, failure, 3), { retry: false });
    assert.deepEqual(retryDecision(def, { ...failure, retryable: false }, 1), { retry: false });
    assert.deepEqual(retryDecision(def, { ...failure, code: 'HTTP_429' }, 1), { retry: false });
  });
});

describe('finalFailure', () => {
  it('times out the step and its run when time ran out, and fails them otherwise', () => {
    assert.deepEqual(finalFailure('w', { message: 'too late', code: 'TIMEOUT', retryable: false }), {
      stepStatus: 'TIMED_OUT',
      runStatus: 'TIMED_OUT',
      runError: 'step "w": too late',
    });
    assert.deepEqual(finalFailure('h', { message: 'HTTP 404', code: 'HTTP_4XX', retryable: false }), {
      stepStatus: 'FAILED',
      runStatus: 'FAILED',
      runError: 'step "h": HTTP 404',
    });
  });
});

describe('isRunnable and runOutput', () => {
  const graph = spec([
    { id: 'a', type: 'transform', with: { output: 1 } },
    { id: 'b', type: 'transform', needs: ['a'], with: { output: 2 } },
    { id: 'c', type: 'transform', needs: ['a'], with: { output: 3 } },
  ]);

  it('takes up a pending step only once everything it needs succeeded', () => {
    assert.equal(isRunnable(graph.steps[1]!, rows({ a: 'RUNNING', b: 'PENDING', c: 'PENDING' })), false);
    assert.equal(isRunnable(graph.steps[1]!, rows({ a: 'SUCCEEDED', b: 'PENDING', c: 'PENDING' })), true);
    assert.equal(isRunnable(graph.steps[1]!, rows({ a: 'SUCCEEDED', b: 'READY', c: 'PENDING' })), false);
  });

  it('gives a run the outputs of the steps nothing waits for', () => {
    assert.deepEqual(
      runOutput(graph, (id) => ({ a: 1, b: 2, c: 3 })[id] ?? null),
      { b: 2, c: 3 },
    );
  });
});

describe('planRun', () => {
  const definition = (steps: unknown[]) => ({ spec: spec(steps), name: 'wf' });
  const input = { tenantId: 't-1', input: { n: 7 }, idempotencyKey: null };

  it('finishes at creation a run made only of pure steps', () => {
    const plan = planRun(
      'run-1',
      input,
      definition([
        { id: 'a', type: 'transform', with: { output: { n: '$.input.n' } } },
        { id: 'l', type: 'log', needs: ['a'], with: { message: 'n is {{ $.steps.a.output.n }}', level: 'warn' } },
      ]),
    );
    assert.equal(plan.finished, true);
    assert.equal(plan.run.status, 'SUCCEEDED');
    assert.deepEqual(plan.output, { l: { message: 'n is 7' } });
    assert.deepEqual(plan.logs, [{ stepId: 'l', level: 'warn', message: 'n is 7' }]);
  });

  it('leaves the steps with side effects, and what needs them, to the workers', () => {
    const plan = planRun(
      'run-1',
      input,
      definition([
        { id: 'a', type: 'transform', with: { output: 1 } },
        { id: 'h', type: 'http', needs: ['a'], with: { url: 'https://example.test/' } },
        { id: 'b', type: 'transform', needs: ['h'], with: { output: 2 } },
      ]),
    );
    assert.equal(plan.finished, false);
    assert.equal(plan.run.status, 'RUNNING');
    assert.deepEqual([...plan.outputs.keys()], ['a']);
    assert.equal(plan.output, null);
  });

  it('keeps a run that starts with a worker step queued', () => {
    const plan = planRun('run-1', input, definition([{ id: 'h', type: 'http', with: { url: 'https://example.test/' } }]));
    assert.equal(plan.run.status, 'QUEUED');
    assert.equal(plan.outputs.size, 0);
  });
});
