import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TansuError } from '@tansu/platform/errors';
import { backoffDelay, LIMITS, validateWorkflowName, validateWorkflowSpec, type RetryPolicy } from '@tansu/subgraph-workflow/definitions/workflow-definition';

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 60_000, backoffFactor: 2, nonRetryable: [] };

/** Asserts a BAD_USER_INPUT TansuError on `field`, whose message names `step` (when given) and matches `pattern`. */
function rejects(spec: unknown, expected: { field: string; step?: string; pattern?: RegExp }): void {
  assert.throws(
    () => validateWorkflowSpec(spec),
    (error: unknown) => {
      assert.ok(error instanceof TansuError, `expected a TansuError, got ${String(error)}`);
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.equal(error.extensions.field, expected.field);
      if (expected.step !== undefined) assert.ok(error.message.includes(`step "${expected.step}"`), `message names step "${expected.step}": ${error.message}`);
      if (expected.pattern !== undefined) assert.match(error.message, expected.pattern);
      return true;
    },
  );
}

function transform(id: string, needs: string[] = [], output: unknown = 'x'): Record<string, unknown> {
  return { id, type: 'transform', needs, with: { output } };
}

describe('validateWorkflowSpec', () => {
  it('accepts a valid transform -> http -> log graph and fills defaults', () => {
    const spec = validateWorkflowSpec({
      steps: [
        { id: 'prepare', type: 'transform', with: { output: { user: '$.input.userId', run: '$.run.id' } } },
        {
          id: 'call',
          type: 'http',
          needs: ['prepare'],
          with: { url: 'https://api.example.com/users/{{ $.steps.prepare.output.user }}', method: 'post', body: { id: '$.steps.prepare.output.user' } },
        },
        { id: 'done', type: 'log', needs: ['call', 'call'], with: { message: 'status {{ $.steps.call.output.status }}', level: 'warn' } },
      ],
    });
    assert.equal(spec.steps.length, 3);
    assert.deepEqual(
      spec.steps.map((step) => [step.id, step.type, step.needs]),
      [
        ['prepare', 'transform', []],
        ['call', 'http', ['prepare']],
        ['done', 'log', ['call']],
      ],
    );
    for (const step of spec.steps) {
      assert.equal(step.timeoutMs, 30_000, step.id);
      assert.deepEqual(step.retry, DEFAULT_RETRY, step.id);
    }
    assert.deepEqual(spec.steps[0]!.with, { output: { user: '$.input.userId', run: '$.run.id' } });
    assert.equal(spec.steps[1]!.with.method, 'post');
  });

  it('keeps explicit timeoutMs and retry values and fills the rest of retry', () => {
    const spec = validateWorkflowSpec({
      steps: [{ id: 'a', type: 'transform', with: { output: 1 }, timeoutMs: 5_000, retry: { maxAttempts: 5, backoffFactor: 1.5, nonRetryable: ['HTTP_4XX'] } }],
    });
    assert.equal(spec.steps[0]!.timeoutMs, 5_000);
    assert.deepEqual(spec.steps[0]!.retry, { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 60_000, backoffFactor: 1.5, nonRetryable: ['HTTP_4XX'] });
  });

  it('accepts a url, delay or template given as a reference', () => {
    const spec = validateWorkflowSpec({
      steps: [
        { id: 'a', type: 'http', with: { url: '$.input.url' } },
        { id: 'b', type: 'delay', with: { ms: '$.input.wait' } },
        { id: 'c', type: 'delay', with: { ms: 0 } },
        { id: 'd', type: 'waitForEvent', with: { event: 'order.paid', match: { orderId: '$.input.orderId' }, timeoutMs: 60_000 } },
      ],
    });
    assert.equal(spec.steps.length, 4);
  });

  it('allows transitive references (c needs b needs a; c reads a)', () => {
    const spec = validateWorkflowSpec({
      steps: [transform('a'), transform('b', ['a'], '$.steps.a.output'), transform('c', ['b'], { fromA: '$.steps.a.output.x', text: 'a={{ $.steps.a.output }}' })],
    });
    assert.deepEqual(
      spec.steps.map((step) => step.id),
      ['a', 'b', 'c'],
    );
  });

  it('accepts steps listed before the steps they need', () => {
    const spec = validateWorkflowSpec({ steps: [transform('b', ['a'], '$.steps.a.output'), transform('a')] });
    assert.equal(spec.steps.length, 2);
  });

  it('rejects a dependency cycle and lists it', () => {
    rejects({ steps: [transform('a', ['c']), transform('b', ['a']), transform('c', ['b'])] }, { field: 'steps', step: 'a', pattern: /dependency cycle: a -> c -> b -> a/ });
    rejects({ steps: [transform('root'), transform('x', ['root', 'y']), transform('y', ['x'])] }, { field: 'steps', step: 'x', pattern: /dependency cycle: x -> y -> x/ });
  });

  it('rejects an unknown need', () => {
    rejects({ steps: [transform('a'), transform('b', ['a', 'ghost'])] }, { field: 'needs', step: 'b', pattern: /unknown step "ghost"/ });
  });

  it('rejects a step that needs itself', () => {
    rejects({ steps: [transform('a', ['a'])] }, { field: 'needs', step: 'a', pattern: /itself/ });
  });

  it('rejects needs that are not a list of ids', () => {
    rejects({ steps: [{ ...transform('a'), needs: 'b' }] }, { field: 'needs', step: 'a' });
    rejects({ steps: [{ ...transform('a'), needs: [1] }] }, { field: 'needs', step: 'a' });
  });

  it('rejects a duplicate id', () => {
    rejects({ steps: [transform('a'), transform('b'), transform('a')] }, { field: 'id', step: 'a', pattern: /used twice/ });
  });

  it('rejects a bad id, naming the step by its position', () => {
    for (const id of ['1abc', 'has space', '', 'a.b', 'x'.repeat(65), 42, undefined]) {
      rejects({ steps: [transform('ok'), { ...transform('z'), id }] }, { field: 'steps[1].id', pattern: /^steps\[1\]\.id: / });
    }
    assert.equal(validateWorkflowSpec({ steps: [transform('a'.repeat(64))] }).steps.length, 1);
  });

  it('rejects an unknown type', () => {
    rejects({ steps: [{ id: 'mail', type: 'email', with: {} }] }, { field: 'type', step: 'mail', pattern: /must be one of/ });
    rejects({ steps: [{ id: 'mail', with: {} }] }, { field: 'type', step: 'mail' });
  });

  it('rejects a step that is not an object, or a with that is not an object', () => {
    rejects({ steps: [transform('a'), 'b'] }, { field: 'steps[1]' });
    rejects({ steps: [{ id: 'a', type: 'log', with: ['message'] }] }, { field: 'with', step: 'a' });
  });

  it('rejects http without url, with a non-http url, an invalid url or a bad method', () => {
    rejects({ steps: [{ id: 'h', type: 'http', with: {} }] }, { field: 'with.url', step: 'h', pattern: /required/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 42 } }] }, { field: 'with.url', step: 'h' });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'ftp://files.example.com/x' } }] }, { field: 'with.url', step: 'h', pattern: /http or https/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'file:///etc/passwd' } }] }, { field: 'with.url', step: 'h', pattern: /http or https/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'not a url' } }] }, { field: 'with.url', step: 'h', pattern: /not a valid URL/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 'FETCH' } }] }, { field: 'with.method', step: 'h' });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 7 } }] }, { field: 'with.method', step: 'h' });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', headers: 'x' } }] }, { field: 'with.headers', step: 'h' });
  });

  it('rejects delay without ms, or with a negative or fractional ms', () => {
    rejects({ steps: [{ id: 'd', type: 'delay', with: {} }] }, { field: 'with.ms', step: 'd', pattern: /required/ });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: -1 } }] }, { field: 'with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: 1.5 } }] }, { field: 'with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: LIMITS.maxDelayMs + 1 } }] }, { field: 'with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: 'soon' } }] }, { field: 'with.ms', step: 'd' });
  });

  it(
    'rejects delay with ms null',
    () => {
      rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: null } }] }, { field: 'with.ms', step: 'd' });
    },
  );

  it('rejects waitForEvent without an event, with a bad match or timeout', () => {
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: {} }] }, { field: 'with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: '' } }] }, { field: 'with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'e'.repeat(201) } }] }, { field: 'with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', match: 'x' } }] }, { field: 'with.match', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', timeoutMs: 0 } }] }, { field: 'with.timeoutMs', step: 'w' });
  });

  it('rejects log without a message, with a too long message or a bad level', () => {
    rejects({ steps: [{ id: 'l', type: 'log', with: {} }] }, { field: 'with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 5 } }] }, { field: 'with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'm'.repeat(10_001) } }] }, { field: 'with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'hi', level: 'fatal' } }] }, { field: 'with.level', step: 'l' });
  });

  it('rejects transform without output', () => {
    rejects({ steps: [{ id: 't', type: 'transform', with: {} }] }, { field: 'with.output', step: 't' });
  });

  it('rejects a reference to a step that is not (transitively) needed', () => {
    rejects({ steps: [transform('a'), transform('b', [], '$.steps.a.output')] }, { field: 'with', step: 'b', pattern: /does not wait for/ });
    // siblings: both need a, c reads b
    rejects({ steps: [transform('a'), transform('b', ['a']), transform('c', ['a'], 'x {{ $.steps.b.output.v }}')] }, { field: 'with', step: 'c', pattern: /reads step "b"/ });
    // a step reading what comes after it
    rejects({ steps: [transform('a', [], '$.steps.b.output'), transform('b', ['a'])] }, { field: 'with', step: 'a' });
  });

  it('rejects a reference to an unknown step', () => {
    rejects({ steps: [transform('a', [], '$.steps.zz.output')] }, { field: 'with', step: 'a', pattern: /unknown step "zz"/ });
  });

  it('rejects a reference with an unknown root, also inside templates', () => {
    rejects({ steps: [transform('a', [], '$.env.X')] }, { field: 'with', step: 'a', pattern: /\$\.env\.X/ });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'secret {{ $.env.SECRET }}' } }] }, { field: 'with', step: 'l', pattern: /\$\.env\.SECRET/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: '$.secrets.url' } }] }, { field: 'with', step: 'h' });
  });

  it('rejects a reference that does not read a step output', () => {
    rejects({ steps: [transform('a'), transform('b', ['a'], '$.steps.a.status')] }, { field: 'with', step: 'b', pattern: /output/ });
    rejects({ steps: [transform('a'), transform('b', ['a'], '$.steps.a')] }, { field: 'with', step: 'b', pattern: /output/ });
  });

  it('rejects a string that starts like a reference but is not one', () => {
    rejects({ steps: [transform('a', [], '$.input..x')] }, { field: 'with', step: 'a', pattern: /not a valid reference/ });
  });

  it('accepts 100 steps and rejects 101', () => {
    const steps = (count: number) => Array.from({ length: count }, (_, index) => transform(`s${index}`));
    assert.equal(validateWorkflowSpec({ steps: steps(100) }).steps.length, 100);
    rejects({ steps: steps(101) }, { field: 'steps', pattern: /1 to 100 steps/ });
  });

  it('rejects zero steps and a spec that is not a list of steps', () => {
    rejects({ steps: [] }, { field: 'steps', pattern: /1 to 100 steps/ });
    rejects({}, { field: 'steps' });
    rejects({ steps: 'a' }, { field: 'steps' });
    rejects(null, { field: 'steps' });
    rejects([transform('a')], { field: 'steps' });
  });

  it('accepts a spec just under 256 KiB and rejects one over it', () => {
    assert.equal(validateWorkflowSpec({ steps: [transform('a', [], 'x'.repeat(250 * 1024))] }).steps.length, 1);
    rejects({ steps: [transform('a', [], 'x'.repeat(257 * 1024))] }, { field: 'steps', pattern: /exceeds 262144 bytes/ });
    // counted in bytes, not characters
    rejects({ steps: [transform('a', [], 'é'.repeat(130 * 1024))] }, { field: 'steps', pattern: /exceeds/ });
  });

  it('rejects bad retry values', () => {
    const withRetry = (retry: unknown) => ({ steps: [{ ...transform('r'), retry }] });
    rejects(withRetry({ maxAttempts: 0 }), { field: 'retry.maxAttempts', step: 'r' });
    rejects(withRetry({ maxAttempts: LIMITS.maxAttempts + 1 }), { field: 'retry.maxAttempts', step: 'r' });
    rejects(withRetry({ maxAttempts: 2.5 }), { field: 'retry.maxAttempts', step: 'r' });
    rejects(withRetry({ backoffFactor: 20 }), { field: 'retry.backoffFactor', step: 'r' });
    rejects(withRetry({ backoffFactor: 0.5 }), { field: 'retry.backoffFactor', step: 'r' });
    rejects(withRetry({ backoffFactor: 'x' }), { field: 'retry.backoffFactor', step: 'r' });
    rejects(withRetry({ initialDelayMs: 5_000, maxDelayMs: 1_000 }), { field: 'retry.initialDelayMs', step: 'r' });
    rejects(withRetry({ maxDelayMs: -1 }), { field: 'retry.maxDelayMs', step: 'r' });
    rejects(withRetry({ nonRetryable: [1] }), { field: 'retry.nonRetryable', step: 'r' });
    rejects(withRetry('always'), { field: 'retry', step: 'r' });
  });

  it('rejects a bad timeoutMs', () => {
    rejects({ steps: [{ ...transform('t'), timeoutMs: 0 }] }, { field: 'timeoutMs', step: 't' });
    rejects({ steps: [{ ...transform('t'), timeoutMs: LIMITS.maxTimeoutMs + 1 }] }, { field: 'timeoutMs', step: 't' });
  });
});

describe('validateWorkflowName', () => {
  it('accepts good names', () => {
    for (const name of ['order-sync', 'A', 'v1.2_beta', 'a'.repeat(100)]) assert.equal(validateWorkflowName(name), name);
  });

  it('rejects bad names with a BAD_USER_INPUT on field name', () => {
    for (const name of ['', '1abc', '-x', 'has space', 'a/b', 'a'.repeat(101), 42, null, undefined]) {
      assert.throws(
        () => validateWorkflowName(name),
        (error: unknown) => error instanceof TansuError && error.code === 'BAD_USER_INPUT' && error.extensions.field === 'name',
        String(name),
      );
    }
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 10, initialDelayMs: 1_000, maxDelayMs: 10_000, backoffFactor: 2, nonRetryable: [] };
  const high = () => 1;
  const low = () => 0;

  it('uses initialDelayMs for attempt 2 (the first retry)', () => {
    assert.equal(backoffDelay(policy, 2, high), 1_000);
    assert.equal(backoffDelay(policy, 2, low), 500);
  });

  it('grows with the attempt', () => {
    assert.deepEqual(
      [2, 3, 4, 5].map((attempt) => backoffDelay(policy, attempt, high)),
      [1_000, 2_000, 4_000, 8_000],
    );
    assert.ok(backoffDelay(policy, 4, low) > backoffDelay(policy, 3, low));
  });

  it('is capped at maxDelayMs', () => {
    assert.equal(backoffDelay(policy, 6, high), 10_000);
    assert.equal(backoffDelay(policy, 25, high), 10_000);
    assert.equal(backoffDelay(policy, 25, low), 5_000);
  });

  it('stays within [capped/2, capped] for any random value', () => {
    for (const attempt of [2, 3, 4, 5, 6, 10]) {
      const capped = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 2));
      for (const r of [0, 0.25, 0.5, 0.999, 1]) {
        const delay = backoffDelay(policy, attempt, () => r);
        assert.ok(delay >= capped / 2 && delay <= capped, `attempt ${attempt}, random ${r}: ${delay} not in [${capped / 2}, ${capped}]`);
      }
    }
  });

  it('follows the backoff factor and gives 0 for a zero policy', () => {
    assert.equal(backoffDelay({ ...policy, backoffFactor: 3 }, 4, high), 9_000);
    assert.equal(backoffDelay({ ...policy, initialDelayMs: 0, maxDelayMs: 0 }, 5, high), 0);
  });
});
