import { TansuError } from '@tansu/platform/errors';
import { closestName } from './closest-name.ts';
import { isHeaderName, isHeaderValue } from './http-header.ts';
import { indexPath, keyPath } from './json-path.ts';
import { misusedPlaceholder, parseReference, referencesIn, type Json } from './mapping.ts';
import { UNSTORABLE_MESSAGE, unstorableTextAt } from './storable-json.ts';

export const STEP_TYPES = ['http', 'delay', 'waitForEvent', 'transform', 'log'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  backoffFactor: number;
  /** Error codes that fail the step at once, whatever attempts remain. */
  nonRetryable: string[];
}

export interface StepDefinition {
  id: string;
  type: StepType;
  needs: string[];
  with: Record<string, Json>;
  timeoutMs: number;
  retry: RetryPolicy;
}

export interface WorkflowSpec {
  steps: StepDefinition[];
}

export const LIMITS = {
  maxSteps: 100,
  maxTimeoutMs: 24 * 3_600_000,
  maxDelayMs: 30 * 24 * 3_600_000,
  maxAttempts: 25,
  maxSpecBytes: 256 * 1024,
  maxEventLength: 200,
  maxLogMessageLength: 10_000,
} as const;

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  backoffFactor: 2,
  nonRetryable: [],
});
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** The codes a failed step can carry (RunStep.errorCode), hence what `retry.nonRetryable` may list. */
export const STEP_ERROR_CODES = [
  'HTTP_4XX',
  'HTTP_429',
  'HTTP_5XX',
  'TIMEOUT',
  'NETWORK',
  'RESPONSE_TOO_LARGE',
  'EGRESS_DENIED',
  'BAD_MAPPING',
  'BAD_OUTPUT',
  'WORKER_LOST',
  'INTERNAL',
] as const;

const SPEC_KEYS = ['steps'] as const;
const STEP_KEYS = ['id', 'type', 'needs', 'with', 'timeoutMs', 'retry'] as const;
const RETRY_KEYS = ['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'backoffFactor', 'nonRetryable'] as const;
/** What `with` holds for each step type. */
export const STEP_OPTIONS: Readonly<Record<StepType, readonly string[]>> = {
  http: ['url', 'method', 'headers', 'body'],
  delay: ['ms'],
  waitForEvent: ['event', 'match', 'timeoutMs'],
  transform: ['output'],
  log: ['message', 'level'],
};

// Names people bring from other workflow engines, mapped to ours.
const TYPE_SYNONYMS = {
  request: 'http',
  fetch: 'http',
  webhook: 'http',
  call: 'http',
  sleep: 'delay',
  wait: 'delay',
  timer: 'delay',
  event: 'waitForEvent',
  waitForSignal: 'waitForEvent',
  signal: 'waitForEvent',
  map: 'transform',
  set: 'transform',
  pass: 'transform',
  print: 'log',
};
const STEP_SYNONYMS = {
  name: 'id',
  key: 'id',
  kind: 'type',
  uses: 'type',
  action: 'type',
  dependsOn: 'needs',
  depends: 'needs',
  after: 'needs',
  requires: 'needs',
  dependencies: 'needs',
  waitFor: 'needs',
  config: 'with',
  options: 'with',
  params: 'with',
  parameters: 'with',
  args: 'with',
  arguments: 'with',
  inputs: 'with',
  settings: 'with',
  timeout: 'timeoutMs',
  deadline: 'timeoutMs',
  timeLimit: 'timeoutMs',
  retries: 'retry',
  retryPolicy: 'retry',
  backoff: 'retry',
};
const RETRY_SYNONYMS = {
  max: 'maxAttempts',
  attempts: 'maxAttempts',
  maxTries: 'maxAttempts',
  tries: 'maxAttempts',
  limit: 'maxAttempts',
  count: 'maxAttempts',
  times: 'maxAttempts',
  maxRetries: 'maxAttempts (which counts the first attempt too)',
  retries: 'maxAttempts (which counts the first attempt too)',
  delay: 'initialDelayMs',
  delayMs: 'initialDelayMs',
  initialDelay: 'initialDelayMs',
  initialInterval: 'initialDelayMs',
  interval: 'initialDelayMs',
  minDelayMs: 'initialDelayMs',
  baseDelayMs: 'initialDelayMs',
  maxDelay: 'maxDelayMs',
  maxInterval: 'maxDelayMs',
  cap: 'maxDelayMs',
  factor: 'backoffFactor',
  multiplier: 'backoffFactor',
  backoff: 'backoffFactor',
  backoffCoefficient: 'backoffFactor',
  exponent: 'backoffFactor',
  nonRetryableErrors: 'nonRetryable',
  nonRetryableCodes: 'nonRetryable',
  noRetry: 'nonRetryable',
  doNotRetry: 'nonRetryable',
  fatal: 'nonRetryable',
  abortOn: 'nonRetryable',
};
const OPTION_SYNONYMS: Readonly<Record<StepType, Readonly<Record<string, string>>>> = {
  http: { uri: 'url', endpoint: 'url', href: 'url', verb: 'method', header: 'headers', data: 'body', json: 'body', payload: 'body' },
  delay: { duration: 'ms', delay: 'ms', delayMs: 'ms', milliseconds: 'ms', time: 'ms', wait: 'ms', seconds: 'ms (milliseconds)', timeoutMs: 'ms' },
  waitForEvent: { name: 'event', eventName: 'event', topic: 'event', type: 'event', filter: 'match', where: 'match', timeout: 'timeoutMs' },
  transform: { value: 'output', result: 'output', mapping: 'output', data: 'output', set: 'output' },
  log: { text: 'message', msg: 'message', severity: 'level' },
};
const CODE_SYNONYMS = {
  TIMED_OUT: 'TIMEOUT',
  HTTP_500: 'HTTP_5XX',
  HTTP_502: 'HTTP_5XX',
  HTTP_503: 'HTTP_5XX',
  HTTP_504: 'HTTP_5XX',
  HTTP_400: 'HTTP_4XX',
  HTTP_404: 'HTTP_4XX',
  ECONNREFUSED: 'NETWORK',
  ECONNRESET: 'NETWORK',
  ENOTFOUND: 'NETWORK',
};

const STEP_ID = /^[A-Za-z][\w-]{0,63}$/;
const NAME = /^[A-Za-z][\w.-]{0,99}$/;

/** Where a value sits: its exact path in the definition, and the step it belongs to. */
interface Where {
  path: string;
  step?: string;
}

function fail(where: Where, message: string): never {
  const place = where.step === undefined ? where.path : `${where.path} (step "${where.step}")`;
  throw new TansuError('BAD_USER_INPUT', `${place}: ${message}`, { extensions: { field: where.path } });
}

const at = (where: Where, key: string): Where => ({ path: keyPath(where.path, key), step: where.step });

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const isReference = (value: unknown): value is string => typeof value === 'string' && value.startsWith('$.');
const isTemplated = (value: unknown) => typeof value === 'string' && (value.startsWith('$.') || value.includes('{{'));

function int(where: Where, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(where, `must be an integer from ${min} to ${max}`);
  return value;
}

/** Refuses keys an object does not know, with a hint at what was most likely meant. */
function checkKeys(where: Where, value: Record<string, unknown>, known: readonly string[], hint: (key: string) => string | undefined): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    fail(at(where, key), `unknown option; ${hint(key) ?? `the options are ${known.join(', ')}`}`);
  }
}

const meant = (name: string | undefined) => (name === undefined ? undefined : `did you mean ${name}?`);

export function validateWorkflowName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name))
    fail({ path: 'name' }, 'must be 1-100 letters, digits, dots, dashes or underscores, starting with a letter');
  return name;
}

function validateRetry(where: Where, raw: unknown): RetryPolicy {
  if (raw === undefined || raw === null) return { ...DEFAULT_RETRY, nonRetryable: [] };
  if (!isObject(raw)) fail(where, 'must be an object');
  checkKeys(where, raw, RETRY_KEYS, (key) => meant(closestName(key, RETRY_KEYS, RETRY_SYNONYMS)));
  const maxDelayMs = int(at(where, 'maxDelayMs'), raw.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0, LIMITS.maxTimeoutMs);
  const factor = raw.backoffFactor ?? DEFAULT_RETRY.backoffFactor;
  if (typeof factor !== 'number' || !(factor >= 1 && factor <= 10)) fail(at(where, 'backoffFactor'), 'must be a number from 1 to 10');
  const codes = raw.nonRetryable ?? [];
  const codesAt = at(where, 'nonRetryable');
  if (!Array.isArray(codes)) fail(codesAt, 'must be a list of error codes');
  for (const [index, code] of codes.entries()) {
    if (typeof code === 'string' && (STEP_ERROR_CODES as readonly string[]).includes(code)) continue;
    const suggestion = typeof code === 'string' ? closestName(code, STEP_ERROR_CODES, CODE_SYNONYMS) : undefined;
    fail(
      { path: indexPath(codesAt.path, index), step: where.step },
      `${JSON.stringify(code)} is not an error code${suggestion === undefined ? '' : `; did you mean ${suggestion}?`} (codes: ${STEP_ERROR_CODES.join(', ')})`,
    );
  }
  return {
    maxAttempts: int(at(where, 'maxAttempts'), raw.maxAttempts, DEFAULT_RETRY.maxAttempts, 1, LIMITS.maxAttempts),
    initialDelayMs: int(at(where, 'initialDelayMs'), raw.initialDelayMs, DEFAULT_RETRY.initialDelayMs, 0, maxDelayMs),
    maxDelayMs,
    backoffFactor: factor,
    nonRetryable: [...new Set(codes as string[])],
  };
}

/** What a key of a step that is not a step key was probably meant to be. */
function stepKeyHint(where: Where, type: StepType, key: string): string | undefined {
  const withPath = keyPath(where.path, 'with');
  if (STEP_OPTIONS[type].includes(key)) return `it belongs at ${keyPath(withPath, key)}`;
  if ((RETRY_KEYS as readonly string[]).includes(key)) return `it belongs at ${keyPath(keyPath(where.path, 'retry'), key)}`;
  const own = closestName(key, STEP_KEYS, STEP_SYNONYMS);
  if (own !== undefined) return meant(own);
  const option = closestName(key, STEP_OPTIONS[type], OPTION_SYNONYMS[type]);
  return option === undefined ? undefined : meant(keyPath(withPath, option));
}

/** What a `with` key the step type does not know was probably meant to be. */
function optionHint(stepWhere: Where, type: StepType, key: string): string | undefined {
  const option = closestName(key, STEP_OPTIONS[type], OPTION_SYNONYMS[type]);
  if (option !== undefined) return meant(option);
  const stepKey = closestName(key, STEP_KEYS, STEP_SYNONYMS);
  if (stepKey !== undefined && stepKey !== 'with') {
    const path = keyPath(stepWhere.path, stepKey);
    return stepKey === key ? `it belongs beside with, at ${path}` : `did you mean ${path}, beside with?`;
  }
  if ((RETRY_KEYS as readonly string[]).includes(key)) return `it belongs at ${keyPath(keyPath(stepWhere.path, 'retry'), key)}`;
  const owner = STEP_TYPES.find((other) => STEP_OPTIONS[other].includes(key));
  return owner === undefined ? undefined : `${key} is an option of ${owner} steps; ${type} steps take ${STEP_OPTIONS[type].join(', ')}`;
}

/** Each step type's options in `with`; references and templates are checked afterwards. */
function validateOptions(where: Where, type: StepType, config: Record<string, unknown>): void {
  const option = (key: string) => at(where, key);
  switch (type) {
    case 'http': {
      if (typeof config.url !== 'string') fail(option('url'), 'is required: the address to call, http or https');
      if (!isTemplated(config.url)) {
        let url: URL;
        try {
          url = new URL(config.url);
        } catch {
          fail(option('url'), 'is not a valid URL');
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(option('url'), 'must be http or https');
      }
      const method = config.method ?? 'GET';
      if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method.toUpperCase()))
        fail(option('method'), `must be one of ${HTTP_METHODS.join(', ')}`);
      if (config.headers !== undefined && config.headers !== null) {
        if (!isObject(config.headers)) fail(option('headers'), 'must be an object of header names and values');
        for (const [name, value] of Object.entries(config.headers)) {
          const header = at(option('headers'), name);
          if (!isHeaderName(name)) fail(header, 'is not a valid header name');
          if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
            fail(header, 'must be a string, a number or a boolean');
          if (typeof value === 'string' && !isHeaderValue(value)) fail(header, 'must be Latin-1 text without line breaks or NUL characters');
        }
      }
      if (config.body !== undefined && config.body !== null && ['GET', 'HEAD'].includes(method.toUpperCase()))
        fail(option('body'), `cannot be sent with ${method.toUpperCase()}; set method to POST, PUT, PATCH or DELETE`);
      return;
    }
    case 'delay':
      if (config.ms === undefined || config.ms === null) fail(option('ms'), 'is required: how long to wait, in milliseconds');
      if (!isReference(config.ms)) int(option('ms'), config.ms, 0, 0, LIMITS.maxDelayMs);
      return;
    case 'waitForEvent':
      if (typeof config.event !== 'string' || config.event.length === 0 || config.event.length > LIMITS.maxEventLength)
        fail(option('event'), `must name the event (1-${LIMITS.maxEventLength} characters)`);
      if (config.match !== undefined && config.match !== null) {
        if (!isObject(config.match)) fail(option('match'), 'must be an object of field values');
        checkMatch(option('match'), config.match);
      }
      int(option('timeoutMs'), config.timeoutMs, 0, 1, LIMITS.maxDelayMs);
      return;
    case 'transform':
      if (!('output' in config)) fail(option('output'), 'is required: the value this step outputs');
      return;
    case 'log':
      if (typeof config.message !== 'string' || config.message.length > LIMITS.maxLogMessageLength)
        fail(option('message'), `is required: a text of at most ${LIMITS.maxLogMessageLength} characters`);
      if (config.level !== undefined && config.level !== null && !(LOG_LEVELS as readonly string[]).includes(String(config.level)))
        fail(option('level'), `must be one of ${LOG_LEVELS.join(', ')}`);
      return;
  }
}

/** A match compares single values and nested objects; a list in it would match anything. */
function checkMatch(where: Where, match: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(match)) {
    if (Array.isArray(value)) fail(at(where, key), 'must be a single value or an object of fields, not a list');
    if (isObject(value)) checkMatch(at(where, key), value);
  }
}

/** Every string of a mapping, with its exact path. */
function eachString(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => eachString(item, indexPath(path, index), visit));
  else if (isObject(value)) for (const [key, item] of Object.entries(value)) eachString(item, keyPath(path, key), visit);
}

interface Parsed {
  step: StepDefinition;
  index: number;
  /** As written, repeats included, to point at the exact entry. */
  needs: string[];
}

/** Steps each step depends on, directly or not; also proves the graph has no cycle. */
function ancestors(steps: Map<string, Parsed>): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): Set<string> => {
    if (state.get(id) === 'done') return result.get(id)!;
    if (state.get(id) === 'visiting') {
      const { index } = steps.get(id)!;
      fail({ path: `steps[${index}].needs`, step: id }, `dependency cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' -> ')}`);
    }
    state.set(id, 'visiting');
    const all = new Set<string>();
    for (const need of steps.get(id)!.step.needs) {
      all.add(need);
      for (const a of visit(need, [...trail, id])) all.add(a);
    }
    state.set(id, 'done');
    result.set(id, all);
    return all;
  };
  for (const id of steps.keys()) visit(id, []);
  return result;
}

/** A reference's target must exist and be known by the time the step runs. */
function checkReference(where: Where, text: string, byId: Map<string, Parsed>, before: Set<string>): void {
  const reference = parseReference(text);
  if (reference === undefined)
    fail(where, `"${text}" is not a valid reference (write $.input.field, $.steps.<id>.output.field or $.run.id; [n] for list items)`);
  if (reference.root === 'input' || reference.root === 'run') return;
  if (reference.root === 'steps') {
    const source = reference.path[0];
    if (source === undefined || !byId.has(source)) {
      const near = source === undefined ? undefined : closestName(source, [...byId.keys()]);
      fail(where, `"${text}" refers to unknown step "${source ?? ''}"${near === undefined ? '' : `; did you mean "${near}"?`}`);
    }
    if (!before.has(source)) fail(where, `"${text}" reads step "${source}", which this step does not wait for (add it to needs)`);
    if (reference.path[1] !== 'output') fail(where, `"${text}" must read a step's output ($.steps.${source}.output…)`);
    return;
  }
  const root = closestName(reference.root, ['input', 'steps', 'run']);
  fail(where, `"${text}" must start with $.input, $.steps or $.run${root === undefined ? '' : `; did you mean $.${root}?`}`);
}

function validateStep(item: unknown, index: number, byId: Map<string, Parsed>): Parsed {
  const base: Where = { path: indexPath('steps', index) };
  if (!isObject(item)) fail(base, 'must be an object with id, type and with');
  const id = item.id;
  if (typeof id !== 'string' || !STEP_ID.test(id)) fail(at(base, 'id'), 'must be 1-64 letters, digits, dashes or underscores, starting with a letter');
  const where: Where = { path: base.path, step: id };
  const twin = byId.get(id);
  if (twin !== undefined) fail(at(where, 'id'), `is used twice (also steps[${twin.index}])`);
  if (typeof item.type !== 'string' || !(STEP_TYPES as readonly string[]).includes(item.type)) {
    const near = typeof item.type === 'string' ? closestName(item.type, STEP_TYPES, TYPE_SYNONYMS) : undefined;
    fail(at(where, 'type'), `must be one of ${STEP_TYPES.join(', ')}${near === undefined ? '' : `; did you mean ${near}?`}`);
  }
  const type = item.type as StepType;
  checkKeys(where, item, STEP_KEYS, (key) => stepKeyHint(where, type, key));
  const needs = item.needs ?? [];
  if (!Array.isArray(needs)) fail(at(where, 'needs'), 'must be a list of step ids');
  needs.forEach((need, n) => {
    if (typeof need !== 'string') fail({ path: indexPath(keyPath(where.path, 'needs'), n), step: id }, 'must be a step id');
  });
  const config = item.with ?? {};
  const withAt = at(where, 'with');
  if (!isObject(config)) fail(withAt, `must be an object of ${type} options (${STEP_OPTIONS[type].join(', ')})`);
  checkKeys(withAt, config, STEP_OPTIONS[type], (key) => optionHint(where, type, key));
  validateOptions(withAt, type, config);
  const unstorable = unstorableTextAt(config, withAt.path);
  if (unstorable !== undefined) fail({ path: unstorable, step: id }, UNSTORABLE_MESSAGE);
  // A wait ends by its event or with.timeoutMs; the step's own timeout bounds work a worker does.
  if (type === 'waitForEvent' && item.timeoutMs !== undefined && item.timeoutMs !== null)
    fail(at(where, 'timeoutMs'), `does not apply to a waitForEvent step; set ${keyPath(withAt.path, 'timeoutMs')} to bound the wait`);
  const step: StepDefinition = {
    id,
    type,
    needs: [...new Set(needs as string[])],
    with: config as Record<string, Json>,
    timeoutMs: int(at(where, 'timeoutMs'), item.timeoutMs, DEFAULT_TIMEOUT_MS, 1, LIMITS.maxTimeoutMs),
    retry: validateRetry(at(where, 'retry'), item.retry),
  };
  return { step, index, needs: needs as string[] };
}

/**
 * Validates a definition on create: shape, known options only (with a suggestion for a
 * misspelt one), ids, dependencies (known, acyclic), per-type options and every mapping
 * reference (run input, or an output of a step it waits for). Errors name the exact path.
 */
export function validateWorkflowSpec(raw: unknown): WorkflowSpec {
  const top: Where = { path: 'steps' };
  if (!isObject(raw) || !Array.isArray(raw.steps)) fail(top, 'must be a list of steps');
  checkKeys({ path: '' }, raw, SPEC_KEYS, (key) =>
    (STEP_KEYS as readonly string[]).includes(key) ? `${key} belongs to a step, inside steps` : meant(closestName(key, SPEC_KEYS)),
  );
  if (Buffer.byteLength(JSON.stringify(raw)) > LIMITS.maxSpecBytes) fail(top, `definition exceeds ${LIMITS.maxSpecBytes} bytes`);
  if (raw.steps.length === 0 || raw.steps.length > LIMITS.maxSteps) fail(top, `must hold 1 to ${LIMITS.maxSteps} steps`);
  const byId = new Map<string, Parsed>();
  for (const [index, item] of raw.steps.entries()) {
    const parsed = validateStep(item, index, byId);
    byId.set(parsed.step.id, parsed);
  }
  for (const { step, index, needs } of byId.values()) {
    needs.forEach((need, n) => {
      const where = { path: `steps[${index}].needs[${n}]`, step: step.id };
      if (need === step.id) fail(where, 'depends on itself');
      if (!byId.has(need)) {
        const near = closestName(
          need,
          [...byId.keys()].filter((other) => other !== step.id),
        );
        fail(where, `depends on unknown step "${need}"${near === undefined ? '' : `; did you mean "${near}"?`}`);
      }
    });
  }
  const before = ancestors(byId);
  for (const { step, index } of byId.values()) {
    eachString(step.with, `steps[${index}].with`, (text, path) => {
      const where = { path, step: step.id };
      for (const reference of referencesIn(text)) checkReference(where, reference, byId, before.get(step.id)!);
      const misused = misusedPlaceholder(text);
      if (misused !== undefined)
        fail(
          where,
          `${misused} is not a reference, so it would be sent as written; write {{ $.input.field }}, {{ $.steps.<id>.output.field }} or {{ $.run.id }}`,
        );
    });
  }
  return { steps: [...byId.values()].map(({ step }) => step) };
}

/** Delay before retry `attempt` (2 = the first retry): exponential, capped, full jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.backoffFactor ** Math.max(0, attempt - 2);
  const capped = Math.min(policy.maxDelayMs, exponential);
  // Half fixed, half random: spread retries without ever retrying at once.
  return Math.round(capped / 2 + random() * (capped / 2));
}
