import { errors } from '@tansu/platform/errors';
import { parseReference, referencesIn, type Json } from './mapping.ts';

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
} as const;

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1_000, maxDelayMs: 60_000, backoffFactor: 2, nonRetryable: [] };
const STEP_ID = /^[A-Za-z][\w-]{0,63}$/;
const NAME = /^[A-Za-z][\w.-]{0,99}$/;

function fail(step: string | undefined, field: string, message: string): never {
  throw errors.badInput(field, step === undefined ? message : `step "${step}": ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function int(step: string, field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(step, field, `must be an integer between ${min} and ${max}`);
  }
  return value;
}

export function validateWorkflowName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) fail(undefined, 'name', 'must be 1-100 letters, digits, dots, dashes or underscores, starting with a letter');
  return name;
}

function validateRetry(step: string, raw: unknown): RetryPolicy {
  if (raw === undefined || raw === null) return DEFAULT_RETRY;
  if (!isObject(raw)) fail(step, 'retry', 'must be an object');
  const maxDelayMs = int(step, 'retry.maxDelayMs', raw.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0, LIMITS.maxTimeoutMs);
  const factor = raw.backoffFactor ?? DEFAULT_RETRY.backoffFactor;
  if (typeof factor !== 'number' || !(factor >= 1 && factor <= 10)) fail(step, 'retry.backoffFactor', 'must be a number from 1 to 10');
  const nonRetryable = raw.nonRetryable ?? [];
  if (!Array.isArray(nonRetryable) || nonRetryable.some((code) => typeof code !== 'string')) fail(step, 'retry.nonRetryable', 'must be a list of error codes');
  return {
    maxAttempts: int(step, 'retry.maxAttempts', raw.maxAttempts, DEFAULT_RETRY.maxAttempts, 1, LIMITS.maxAttempts),
    initialDelayMs: int(step, 'retry.initialDelayMs', raw.initialDelayMs, DEFAULT_RETRY.initialDelayMs, 0, maxDelayMs),
    maxDelayMs,
    backoffFactor: factor,
    nonRetryable: nonRetryable as string[],
  };
}

/** What each step type needs in `with`; references are checked separately. */
function validateConfig(step: string, type: StepType, config: Record<string, unknown>): void {
  const isRef = (value: unknown) => typeof value === 'string' && value.startsWith('$.');
  switch (type) {
    case 'http': {
      if (typeof config.url !== 'string') fail(step, 'with.url', 'is required');
      if (!isRef(config.url) && !config.url.includes('{{')) {
        let url: URL;
        try {
          url = new URL(config.url);
        } catch {
          fail(step, 'with.url', 'is not a valid URL');
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(step, 'with.url', 'must be http or https');
      }
      const method = config.method ?? 'GET';
      if (typeof method !== 'string' || !['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(method.toUpperCase())) {
        fail(step, 'with.method', 'must be GET, POST, PUT, PATCH, DELETE or HEAD');
      }
      if (config.headers !== undefined && !isObject(config.headers)) fail(step, 'with.headers', 'must be an object');
      return;
    }
    case 'delay':
      if (config.ms === undefined || config.ms === null) fail(step, 'with.ms', 'is required');
      if (!isRef(config.ms)) int(step, 'with.ms', config.ms, 0, 0, LIMITS.maxDelayMs);
      return;
    case 'waitForEvent':
      if (typeof config.event !== 'string' || config.event.length === 0 || config.event.length > 200) fail(step, 'with.event', 'must name the event (1-200 characters)');
      if (config.match !== undefined && !isObject(config.match)) fail(step, 'with.match', 'must be an object of field values');
      int(step, 'with.timeoutMs', config.timeoutMs, 0, 1, LIMITS.maxDelayMs);
      return;
    case 'transform':
      if (!('output' in config)) fail(step, 'with.output', 'is required');
      return;
    case 'log':
      if (typeof config.message !== 'string' || config.message.length > 10_000) fail(step, 'with.message', 'is required (at most 10,000 characters)');
      if (config.level !== undefined && !['debug', 'info', 'warn', 'error'].includes(String(config.level))) fail(step, 'with.level', 'must be debug, info, warn or error');
      return;
  }
}

/** Steps each step depends on, directly or not; also proves the graph has no cycle. */
function ancestors(steps: Map<string, { needs: string[] }>): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): Set<string> => {
    if (state.get(id) === 'done') return result.get(id)!;
    if (state.get(id) === 'visiting') fail(id, 'steps', `dependency cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' -> ')}`);
    state.set(id, 'visiting');
    const all = new Set<string>();
    for (const need of steps.get(id)!.needs) {
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

/**
 * Validates a definition on create: shape, ids, dependencies (known, acyclic), per-type
 * configuration and every mapping reference (run input, or an output of a step it waits for).
 */
export function validateWorkflowSpec(raw: unknown): WorkflowSpec {
  if (!isObject(raw) || !Array.isArray(raw.steps)) fail(undefined, 'steps', 'must be a list of steps');
  if (Buffer.byteLength(JSON.stringify(raw)) > LIMITS.maxSpecBytes) fail(undefined, 'steps', `definition exceeds ${LIMITS.maxSpecBytes} bytes`);
  if (raw.steps.length === 0 || raw.steps.length > LIMITS.maxSteps) fail(undefined, 'steps', `must hold 1 to ${LIMITS.maxSteps} steps`);
  const steps: StepDefinition[] = [];
  const byId = new Map<string, StepDefinition>();
  for (const [index, item] of raw.steps.entries()) {
    if (!isObject(item)) fail(undefined, `steps[${index}]`, 'must be an object');
    const id = item.id;
    if (typeof id !== 'string' || !STEP_ID.test(id)) fail(undefined, `steps[${index}].id`, 'must be 1-64 letters, digits, dashes or underscores, starting with a letter');
    if (byId.has(id)) fail(id, 'id', 'is used twice');
    if (typeof item.type !== 'string' || !(STEP_TYPES as readonly string[]).includes(item.type)) fail(id, 'type', `must be one of ${STEP_TYPES.join(', ')}`);
    const needs = item.needs ?? [];
    if (!Array.isArray(needs) || needs.some((n) => typeof n !== 'string')) fail(id, 'needs', 'must be a list of step ids');
    const config = item.with ?? {};
    if (!isObject(config)) fail(id, 'with', 'must be an object');
    validateConfig(id, item.type as StepType, config);
    const step: StepDefinition = {
      id,
      type: item.type as StepType,
      needs: [...new Set(needs as string[])],
      with: config as Record<string, Json>,
      timeoutMs: int(id, 'timeoutMs', item.timeoutMs, 30_000, 1, LIMITS.maxTimeoutMs),
      retry: validateRetry(id, item.retry),
    };
    steps.push(step);
    byId.set(id, step);
  }
  for (const step of steps) {
    for (const need of step.needs) {
      if (!byId.has(need)) fail(step.id, 'needs', `depends on unknown step "${need}"`);
      if (need === step.id) fail(step.id, 'needs', 'depends on itself');
    }
  }
  const before = ancestors(byId);
  for (const step of steps) {
    for (const text of referencesIn(step.with)) {
      const reference = parseReference(text);
      if (reference === undefined) fail(step.id, 'with', `"${text}" is not a valid reference`);
      if (reference.root === 'input' || reference.root === 'run') continue;
      if (reference.root === 'steps') {
        const source = reference.path[0];
        if (source === undefined || !byId.has(source)) fail(step.id, 'with', `"${text}" refers to unknown step "${source ?? ''}"`);
        if (!before.get(step.id)!.has(source)) fail(step.id, 'with', `"${text}" reads step "${source}", which this step does not wait for (add it to needs)`);
        if (reference.path[1] !== 'output') fail(step.id, 'with', `"${text}" must read a step's output ($.steps.${source}.output…)`);
        continue;
      }
      fail(step.id, 'with', `"${text}" must start with $.input, $.steps or $.run`);
    }
  }
  return { steps };
}

/** Delay before retry `attempt` (2 = the first retry): exponential, capped, full jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.backoffFactor ** Math.max(0, attempt - 2);
  const capped = Math.min(policy.maxDelayMs, exponential);
  // Half fixed, half random: spread retries without ever retrying at once.
  return Math.round(capped / 2 + random() * (capped / 2));
}
