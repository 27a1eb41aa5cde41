import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TansuError } from '@tansu/platform/errors';
import {
  backoffDelay,
  LIMITS,
  STEP_OPTIONS,
  validateWorkflowName,
  validateWorkflowSpec,
  type RetryPolicy,
} from '@tansu/subgraph-workflow/definitions/workflow-definition';

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 60_000, backoffFactor: 2, nonRetryable: [] };

/** Asserts a BAD_USER_INPUT TansuError on the exact path `field`, whose message starts with it, names `step` (when given) and matches `pattern`. */
function rejects(spec: unknown, expected: { field: string; step?: string; pattern?: RegExp }): void {
  assert.throws(
    () => validateWorkflowSpec(spec),
    (error: unknown) => {
      assert.ok(error instanceof TansuError, `expected a TansuError, got ${String(error)}`);
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.equal(error.extensions.field, expected.field, error.message);
      assert.ok(error.message.startsWith(expected.field), `message starts with the path: ${error.message}`);
      if (expected.step !== undefined)
        assert.ok(error.message.includes(`(step "${expected.step}")`), `message names step "${expected.step}": ${error.message}`);
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
      steps: [
        transform('a'),
        transform('b', ['a'], '$.steps.a.output'),
        transform('c', ['b'], { fromA: '$.steps.a.output.x', text: 'a={{ $.steps.a.output }}' }),
      ],
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
    rejects(
      { steps: [transform('a', ['c']), transform('b', ['a']), transform('c', ['b'])] },
      { field: 'steps[0].needs', step: 'a', pattern: /dependency cycle: a -> c -> b -> a/ },
    );
    rejects(
      { steps: [transform('root'), transform('x', ['root', 'y']), transform('y', ['x'])] },
      { field: 'steps[1].needs', step: 'x', pattern: /dependency cycle: x -> y -> x/ },
    );
  });

  it('rejects an unknown need', () => {
    rejects({ steps: [transform('a'), transform('b', ['a', 'ghost'])] }, { field: 'steps[1].needs[1]', step: 'b', pattern: /unknown step "ghost"/ });
    rejects(
      { steps: [transform('fetch-user'), transform('b', ['fetchUser'])] },
      { field: 'steps[1].needs[0]', step: 'b', pattern: /did you mean "fetch-user"\?/ },
    );
  });

  it('rejects a step that needs itself', () => {
    rejects({ steps: [transform('a', ['a'])] }, { field: 'steps[0].needs[0]', step: 'a', pattern: /itself/ });
  });

  it('rejects needs that are not a list of ids', () => {
    rejects({ steps: [{ ...transform('a'), needs: 'b' }] }, { field: 'steps[0].needs', step: 'a' });
    rejects({ steps: [transform('b'), { ...transform('a'), needs: ['b', 1] }] }, { field: 'steps[1].needs[1]', step: 'a' });
  });

  it('rejects a duplicate id', () => {
    rejects({ steps: [transform('a'), transform('b'), transform('a')] }, { field: 'steps[2].id', step: 'a', pattern: /used twice \(also steps\[0\]\)/ });
  });

  it('rejects a bad id, naming the step by its position', () => {
    for (const id of ['1abc', 'has space', '', 'a.b', 'x'.repeat(65), 42, undefined]) {
      rejects({ steps: [transform('ok'), { ...transform('z'), id }] }, { field: 'steps[1].id', pattern: /^steps\[1\]\.id: / });
    }
    assert.equal(validateWorkflowSpec({ steps: [transform('a'.repeat(64))] }).steps.length, 1);
  });

  it('rejects an unknown type', () => {
    rejects(
      { steps: [{ id: 'mail', type: 'email', with: {} }] },
      { field: 'steps[0].type', step: 'mail', pattern: /must be one of http, delay, waitForEvent, transform, log$/ },
    );
    rejects({ steps: [{ id: 'mail', with: {} }] }, { field: 'steps[0].type', step: 'mail' });
    rejects({ steps: [{ id: 'nap', type: 'sleep', with: { ms: 1 } }] }, { field: 'steps[0].type', step: 'nap', pattern: /did you mean delay\?/ });
    rejects(
      { steps: [{ id: 'call', type: 'HTTP', with: { url: 'https://example.com' } }] },
      { field: 'steps[0].type', step: 'call', pattern: /did you mean http\?/ },
    );
  });

  it('rejects a step that is not an object, or a with that is not an object', () => {
    rejects({ steps: [transform('a'), 'b'] }, { field: 'steps[1]' });
    rejects({ steps: [{ id: 'a', type: 'log', with: ['message'] }] }, { field: 'steps[0].with', step: 'a', pattern: /log options \(message, level\)/ });
  });

  it('rejects http without url, with a non-http url, an invalid url or a bad method', () => {
    rejects({ steps: [{ id: 'h', type: 'http', with: {} }] }, { field: 'steps[0].with.url', step: 'h', pattern: /required/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 42 } }] }, { field: 'steps[0].with.url', step: 'h' });
    rejects(
      { steps: [{ id: 'h', type: 'http', with: { url: 'ftp://files.example.com/x' } }] },
      { field: 'steps[0].with.url', step: 'h', pattern: /http or https/ },
    );
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'file:///etc/passwd' } }] }, { field: 'steps[0].with.url', step: 'h', pattern: /http or https/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'not a url' } }] }, { field: 'steps[0].with.url', step: 'h', pattern: /not a valid URL/ });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 'FETCH' } }] }, { field: 'steps[0].with.method', step: 'h' });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 7 } }] }, { field: 'steps[0].with.method', step: 'h' });
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', headers: 'x' } }] }, { field: 'steps[0].with.headers', step: 'h' });
  });

  it('rejects delay without ms, or with a negative or fractional ms', () => {
    rejects({ steps: [{ id: 'd', type: 'delay', with: {} }] }, { field: 'steps[0].with.ms', step: 'd', pattern: /required/ });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: -1 } }] }, { field: 'steps[0].with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: 1.5 } }] }, { field: 'steps[0].with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: LIMITS.maxDelayMs + 1 } }] }, { field: 'steps[0].with.ms', step: 'd' });
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: 'soon' } }] }, { field: 'steps[0].with.ms', step: 'd' });
  });

  it('rejects delay with ms null', () => {
    rejects({ steps: [{ id: 'd', type: 'delay', with: { ms: null } }] }, { field: 'steps[0].with.ms', step: 'd' });
  });

  it('rejects waitForEvent without an event, with a bad match or timeout', () => {
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: {} }] }, { field: 'steps[0].with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: '' } }] }, { field: 'steps[0].with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'e'.repeat(201) } }] }, { field: 'steps[0].with.event', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', match: 'x' } }] }, { field: 'steps[0].with.match', step: 'w' });
    rejects({ steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', timeoutMs: 0 } }] }, { field: 'steps[0].with.timeoutMs', step: 'w' });
    rejects(
      { steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', timeoutMs: '$.input.wait' } }] },
      { field: 'steps[0].with.timeoutMs', step: 'w' },
    );
    // A list in a match would match any payload: refused, also when nested.
    rejects(
      { steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', match: { order: { tags: ['a'] } } } }] },
      { field: 'steps[0].with.match.order.tags', step: 'w', pattern: /not a list/ },
    );
  });

  it('rejects log without a message, with a too long message or a bad level', () => {
    rejects({ steps: [{ id: 'l', type: 'log', with: {} }] }, { field: 'steps[0].with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 5 } }] }, { field: 'steps[0].with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'm'.repeat(10_001) } }] }, { field: 'steps[0].with.message', step: 'l' });
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'hi', level: 'fatal' } }] }, { field: 'steps[0].with.level', step: 'l' });
  });

  it('rejects transform without output', () => {
    rejects({ steps: [{ id: 't', type: 'transform', with: {} }] }, { field: 'steps[0].with.output', step: 't' });
  });

  it('rejects a reference to a step that is not (transitively) needed', () => {
    rejects({ steps: [transform('a'), transform('b', [], '$.steps.a.output')] }, { field: 'steps[1].with.output', step: 'b', pattern: /does not wait for/ });
    // siblings: both need a, c reads b
    rejects(
      { steps: [transform('a'), transform('b', ['a']), transform('c', ['a'], 'x {{ $.steps.b.output.v }}')] },
      { field: 'steps[2].with.output', step: 'c', pattern: /reads step "b"/ },
    );
    // a step reading what comes after it
    rejects({ steps: [transform('a', [], '$.steps.b.output'), transform('b', ['a'])] }, { field: 'steps[0].with.output', step: 'a' });
  });

  it('rejects a reference to an unknown step', () => {
    rejects({ steps: [transform('a', [], '$.steps.zz.output')] }, { field: 'steps[0].with.output', step: 'a', pattern: /unknown step "zz"/ });
  });

  it('rejects a reference with an unknown root, also inside templates', () => {
    rejects({ steps: [transform('a', [], '$.env.X')] }, { field: 'steps[0].with.output', step: 'a', pattern: /\$\.env\.X/ });
    rejects(
      { steps: [{ id: 'l', type: 'log', with: { message: 'secret {{ $.env.SECRET }}' } }] },
      { field: 'steps[0].with.message', step: 'l', pattern: /\$\.env\.SECRET/ },
    );
    rejects({ steps: [{ id: 'h', type: 'http', with: { url: '$.secrets.url' } }] }, { field: 'steps[0].with.url', step: 'h' });
  });

  it('rejects a reference that does not read a step output', () => {
    rejects({ steps: [transform('a'), transform('b', ['a'], '$.steps.a.status')] }, { field: 'steps[1].with.output', step: 'b', pattern: /output/ });
    rejects({ steps: [transform('a'), transform('b', ['a'], '$.steps.a')] }, { field: 'steps[1].with.output', step: 'b', pattern: /output/ });
  });

  it('rejects a string that starts like a reference but is not one', () => {
    rejects({ steps: [transform('a', [], '$.input..x')] }, { field: 'steps[0].with.output', step: 'a', pattern: /not a valid reference/ });
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
    rejects(withRetry({ maxAttempts: 0 }), { field: 'steps[0].retry.maxAttempts', step: 'r' });
    rejects(withRetry({ maxAttempts: LIMITS.maxAttempts + 1 }), { field: 'steps[0].retry.maxAttempts', step: 'r' });
    rejects(withRetry({ maxAttempts: 2.5 }), { field: 'steps[0].retry.maxAttempts', step: 'r' });
    rejects(withRetry({ backoffFactor: 20 }), { field: 'steps[0].retry.backoffFactor', step: 'r' });
    rejects(withRetry({ backoffFactor: 0.5 }), { field: 'steps[0].retry.backoffFactor', step: 'r' });
    rejects(withRetry({ backoffFactor: 'x' }), { field: 'steps[0].retry.backoffFactor', step: 'r' });
    rejects(withRetry({ initialDelayMs: 5_000, maxDelayMs: 1_000 }), { field: 'steps[0].retry.initialDelayMs', step: 'r' });
    rejects(withRetry({ maxDelayMs: -1 }), { field: 'steps[0].retry.maxDelayMs', step: 'r' });
    rejects(withRetry({ nonRetryable: [1] }), { field: 'steps[0].retry.nonRetryable[0]', step: 'r' });
    rejects(withRetry({ nonRetryable: 'HTTP_4XX' }), { field: 'steps[0].retry.nonRetryable', step: 'r' });
    rejects(withRetry({ nonRetryable: ['TIMEOUT', 'HTTP_500'] }), {
      field: 'steps[0].retry.nonRetryable[1]',
      step: 'r',
      pattern: /"HTTP_500" is not an error code; did you mean HTTP_5XX\?/,
    });
    rejects(withRetry({ nonRetryable: ['NOPE'] }), { field: 'steps[0].retry.nonRetryable[0]', step: 'r', pattern: /codes: HTTP_4XX, .*INTERNAL/ });
    rejects(withRetry('always'), { field: 'steps[0].retry', step: 'r' });
  });

  it('rejects a bad timeoutMs', () => {
    rejects({ steps: [{ ...transform('t'), timeoutMs: 0 }] }, { field: 'steps[0].timeoutMs', step: 't' });
    rejects({ steps: [{ ...transform('t'), timeoutMs: LIMITS.maxTimeoutMs + 1 }] }, { field: 'steps[0].timeoutMs', step: 't' });
  });
});

describe('validateWorkflowSpec: unknown options', () => {
  const http = (extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}) => ({
    id: 'fetch',
    type: 'http',
    with: { url: 'https://api.example.com', ...options },
    ...extra,
  });

  // [what, definition, exact path, hint]
  const cases: [string, unknown, string, RegExp][] = [
    [
      'retry.max, as users write it',
      { steps: [transform('a'), http({ retry: { max: 2 } })] },
      'steps[1].retry.max',
      /^steps\[1\]\.retry\.max \(step "fetch"\): unknown option; did you mean maxAttempts\?$/,
    ],
    [
      'retry.maxRetries',
      { steps: [http({ retry: { maxRetries: 2 } })] },
      'steps[0].retry.maxRetries',
      /did you mean maxAttempts \(which counts the first attempt too\)\?/,
    ],
    ['retry.max_attempts', { steps: [http({ retry: { max_attempts: 2 } })] }, 'steps[0].retry.max_attempts', /did you mean maxAttempts\?/],
    ['retry.initialDelay', { steps: [http({ retry: { initialDelay: 5 } })] }, 'steps[0].retry.initialDelay', /did you mean initialDelayMs\?/],
    ['retry.maxDelay', { steps: [http({ retry: { maxDelay: 5 } })] }, 'steps[0].retry.maxDelay', /did you mean maxDelayMs\?/],
    ['retry.multiplier', { steps: [http({ retry: { multiplier: 3 } })] }, 'steps[0].retry.multiplier', /did you mean backoffFactor\?/],
    ['retry.backofFactor (typo)', { steps: [http({ retry: { backofFactor: 3 } })] }, 'steps[0].retry.backofFactor', /did you mean backoffFactor\?/],
    ['retry.nonRetryableErrors', { steps: [http({ retry: { nonRetryableErrors: [] } })] }, 'steps[0].retry.nonRetryableErrors', /did you mean nonRetryable\?/],
    [
      'retry with nothing alike',
      { steps: [http({ retry: { jitter: true } })] },
      'steps[0].retry.jitter',
      /the options are maxAttempts, initialDelayMs, maxDelayMs, backoffFactor, nonRetryable$/,
    ],
    ['step dependsOn', { steps: [transform('a'), { ...transform('b'), dependsOn: ['a'] }] }, 'steps[1].dependsOn', /did you mean needs\?/],
    ['step timeout', { steps: [http({ timeout: 5 })] }, 'steps[0].timeout', /did you mean timeoutMs\?/],
    ['step config', { steps: [{ id: 'a', type: 'log', config: { message: 'm' } }] }, 'steps[0].config', /did you mean with\?/],
    ['step retries', { steps: [http({ retries: 2 })] }, 'steps[0].retries', /did you mean retry\?/],
    [
      'step option outside with',
      { steps: [{ id: 'a', type: 'http', url: 'https://x.example', with: { url: 'https://x.example' } }] },
      'steps[0].url',
      /it belongs at steps\[0\]\.with\.url$/,
    ],
    ['retry option on the step', { steps: [http({ maxAttempts: 2 })] }, 'steps[0].maxAttempts', /it belongs at steps\[0\]\.retry\.maxAttempts$/],
    ['step key with no likeness', { steps: [http({ description: 'x' })] }, 'steps[0].description', /the options are id, type, needs, with, timeoutMs, retry$/],
    ['http with.uri', { steps: [http({}, { uri: 'https://x.example' })] }, 'steps[0].with.uri', /did you mean url\?/],
    ['http with.header', { steps: [http({}, { header: {} })] }, 'steps[0].with.header', /did you mean headers\?/],
    ['http with.json', { steps: [http({}, { method: 'POST', json: {} })] }, 'steps[0].with.json', /did you mean body\?/],
    ['http with.timeoutMs', { steps: [http({}, { timeoutMs: 5 })] }, 'steps[0].with.timeoutMs', /it belongs beside with, at steps\[0\]\.timeoutMs$/],
    ['http with.retry', { steps: [http({}, { retry: {} })] }, 'steps[0].with.retry', /it belongs beside with, at steps\[0\]\.retry$/],
    ['http with.query', { steps: [http({}, { query: {} })] }, 'steps[0].with.query', /the options are url, method, headers, body$/],
    ['delay with.duration', { steps: [{ id: 'd', type: 'delay', with: { duration: 5 } }] }, 'steps[0].with.duration', /did you mean ms\?/],
    ['delay with.seconds', { steps: [{ id: 'd', type: 'delay', with: { ms: 1, seconds: 5 } }] }, 'steps[0].with.seconds', /did you mean ms \(milliseconds\)\?/],
    ['waitForEvent with.name', { steps: [{ id: 'w', type: 'waitForEvent', with: { name: 'paid' } }] }, 'steps[0].with.name', /did you mean event\?/],
    [
      'waitForEvent with.filter',
      { steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', filter: {} } }] },
      'steps[0].with.filter',
      /did you mean match\?/,
    ],
    [
      'waitForEvent with.timeout',
      { steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid', timeout: 5 } }] },
      'steps[0].with.timeout',
      /did you mean timeoutMs\?/,
    ],
    ['transform with.value', { steps: [{ id: 't', type: 'transform', with: { value: 1 } }] }, 'steps[0].with.value', /did you mean output\?/],
    [
      'transform with a log option',
      { steps: [{ id: 't', type: 'transform', with: { output: 1, message: 'm' } }] },
      'steps[0].with.message',
      /message is an option of log steps; transform steps take output$/,
    ],
    ['log with.msg', { steps: [{ id: 'l', type: 'log', with: { msg: 'm' } }] }, 'steps[0].with.msg', /did you mean message\?/],
    ['log with.lvl (typo)', { steps: [{ id: 'l', type: 'log', with: { message: 'm', levl: 'warn' } }] }, 'steps[0].with.levl', /did you mean level\?/],
    ['log with.data', { steps: [{ id: 'l', type: 'log', with: { message: 'm', data: {} } }] }, 'steps[0].with.data', /the options are message, level$/],
    ['a key that needs quoting', { steps: [http({}, { 'content type': 'x' })] }, 'steps[0].with["content type"]', /unknown option/],
    ['the definition itself', { steps: [transform('a')], version: 2 }, 'version', /^version: unknown option; the options are steps$/],
    ['a step key on the definition', { steps: [transform('a')], type: 'log' }, 'type', /type belongs to a step, inside steps/],
  ];

  for (const [what, spec, field, hint] of cases) {
    it(`refuses ${what}, naming ${field}`, () => rejects(spec, { field, pattern: hint }));
  }

  it('refuses an unknown key before checking the options it may have replaced', () => {
    // Not "with.ms is required": the misspelt key is the mistake to report.
    rejects({ steps: [{ id: 'd', type: 'delay', with: { duration: 5 } }] }, { field: 'steps[0].with.duration', step: 'd' });
  });

  it('accepts every documented option of every step type', () => {
    const spec = validateWorkflowSpec({
      steps: [
        {
          id: 'call',
          type: 'http',
          with: {
            url: 'https://api.example.com/x',
            method: 'PUT',
            headers: { 'X-Trace': '$.run.id', 'X-Count': 3, 'X-Flag': true, 'X-None': null },
            body: { a: 1 },
          },
          timeoutMs: 10_000,
          retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5_000, backoffFactor: 3, nonRetryable: ['HTTP_5XX'] },
        },
        { id: 'pause', type: 'delay', needs: ['call'], with: { ms: 1_000 } },
        {
          id: 'wait',
          type: 'waitForEvent',
          needs: ['pause'],
          with: { event: 'order.paid', match: { orderId: '$.input.orderId', nested: { ok: true } }, timeoutMs: 60_000 },
        },
        { id: 'shape', type: 'transform', needs: ['wait'], with: { output: { paid: '$.steps.wait.output' } } },
        { id: 'note', type: 'log', needs: ['shape'], with: { message: 'paid {{ $.steps.shape.output.paid }}', level: 'debug' } },
      ],
    });
    assert.deepEqual(
      spec.steps.map((step) => step.type),
      ['http', 'delay', 'waitForEvent', 'transform', 'log'],
    );
    assert.deepEqual(Object.keys(STEP_OPTIONS), ['http', 'delay', 'waitForEvent', 'transform', 'log']);
    for (const step of spec.steps) assert.deepEqual(Object.keys(step.with).sort(), [...STEP_OPTIONS[step.type]].sort(), step.id);
  });

  it("keeps free-form values free: output, body, headers and match keys are the user's own", () => {
    const spec = validateWorkflowSpec({
      steps: [
        { id: 't', type: 'transform', with: { output: { anything: 1, maxAttempts: 2, url: 'x' } } },
        { id: 'w', type: 'waitForEvent', with: { event: 'e', match: { whatever: 'x' } } },
      ],
    });
    assert.equal(spec.steps.length, 2);
  });
});

describe('validateWorkflowSpec: options that would fail only at run time', () => {
  it('refuses a body with GET or HEAD', () => {
    rejects(
      { steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', body: { a: 1 } } }] },
      { field: 'steps[0].with.body', step: 'h', pattern: /cannot be sent with GET/ },
    );
    rejects(
      { steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 'head', body: 'x' } }] },
      { field: 'steps[0].with.body', step: 'h', pattern: /HEAD/ },
    );
    assert.equal(validateWorkflowSpec({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', method: 'post', body: 'x' } }] }).steps.length, 1);
  });

  it('refuses header names and values no request can carry', () => {
    const headers = (value: unknown) => ({ steps: [{ id: 'h', type: 'http', with: { url: 'https://example.com', headers: value } }] });
    rejects(headers({ 'Bad Name': 'x' }), { field: 'steps[0].with.headers["Bad Name"]', step: 'h', pattern: /not a valid header name/ });
    rejects(headers({ 'X-Obj': { a: 1 } }), { field: 'steps[0].with.headers["X-Obj"]', step: 'h', pattern: /string, a number or a boolean/ });
    rejects(headers({ 'X-Split': 'a\r\nInjected: 1' }), { field: 'steps[0].with.headers["X-Split"]', step: 'h', pattern: /line breaks/ });
    rejects(headers({ 'X-Wide': '日本' }), { field: 'steps[0].with.headers["X-Wide"]', step: 'h', pattern: /Latin-1/ });
    rejects(headers(['X-A']), { field: 'steps[0].with.headers', step: 'h' });
  });

  it('refuses a placeholder meant as a reference that would be sent as written', () => {
    for (const text of ['hi {{ input.name }}', '{{ $.input.name | upper }}', 'x {{$input.name}}', '{{ steps.a.output }}', '{{ $.input..name }}']) {
      rejects({ steps: [{ id: 'l', type: 'log', with: { message: text } }] }, { field: 'steps[0].with.message', step: 'l' });
    }
    // Braces for another system's templates stay literal text.
    assert.equal(validateWorkflowSpec({ steps: [{ id: 'l', type: 'log', with: { message: 'Dear {{name}}, {{ greeting }}' } }] }).steps.length, 1);
  });

  it('points at the exact string of a bad reference deep in a mapping', () => {
    rejects(
      { steps: [transform('a', [], { list: [1, { deep: '$.env.X' }] })] },
      { field: 'steps[0].with.output.list[1].deep', step: 'a', pattern: /did you mean \$\.input|must start with \$\.input, \$\.steps or \$\.run/ },
    );
    rejects({ steps: [transform('a', [], '$.inputs.x')] }, { field: 'steps[0].with.output', step: 'a', pattern: /did you mean \$\.input\?/ });
    rejects(
      { steps: [transform('fetch'), transform('b', ['fetch'], '$.steps.fecth.output')] },
      { field: 'steps[1].with.output', step: 'b', pattern: /unknown step "fecth"; did you mean "fetch"\?/ },
    );
  });

  it('refuses text Postgres cannot store, naming where it is', () => {
    rejects({ steps: [{ id: 'l', type: 'log', with: { message: 'a\u0000b' } }] }, { field: 'steps[0].with.message', step: 'l', pattern: /NUL/ });
    rejects({ steps: [transform('t', [], { ok: ['x', 'half \ud800'] })] }, { field: 'steps[0].with.output.ok[1]', step: 't', pattern: /surrogate/ });
    rejects({ steps: [transform('t', [], { 'key\u0000': 1 })] }, { field: 'steps[0].with.output["key\\u0000"]', step: 't' });
  });

  it('refuses a step timeoutMs on waitForEvent, which waits as long as with.timeoutMs says', () => {
    rejects(
      { steps: [{ id: 'w', type: 'waitForEvent', with: { event: 'paid' }, timeoutMs: 5_000 }] },
      { field: 'steps[0].timeoutMs', step: 'w', pattern: /set steps\[0\]\.with\.timeoutMs/ },
    );
  });

  it('accepts an event name given as a reference or template', () => {
    const spec = validateWorkflowSpec({
      steps: [
        { id: 'w', type: 'waitForEvent', with: { event: 'order.{{ $.input.id }}.paid' } },
        { id: 'v', type: 'waitForEvent', with: { event: '$.input.event' } },
      ],
    });
    assert.equal(spec.steps.length, 2);
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
