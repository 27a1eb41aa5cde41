import { Agent, fetch } from 'undici';
import { isHeaderValue } from '../definitions/http-header.ts';
import { resolveMapping, type Json, type MappingScope } from '../definitions/mapping.ts';
import type { StepDefinition } from '../definitions/workflow-definition.ts';
import { EgressDeniedError, guardedConnector } from '@tansu/platform/http/egress';
import type { StepFailure } from './state-machine.ts';

export interface StepContext {
  def: StepDefinition;
  scope: MappingScope;
  /** Stable across attempts: the same step of the same run always sends the same key. */
  idempotencyKey: string;
  signal: AbortSignal;
}

export class StepError extends Error {
  readonly failure: StepFailure;
  constructor(failure: StepFailure) {
    super(failure.message);
    this.name = 'StepError';
    this.failure = failure;
  }
}

const MAX_RESPONSE_BYTES = 1_048_576;

const tooLarge = () => new StepError({ message: 'response larger than 1 MiB', code: 'RESPONSE_TOO_LARGE', retryable: false });

/** Reads a response body, stopping as soon as it passes the limit or the step's time runs out. */
async function readLimited(response: Awaited<ReturnType<typeof fetch>>, ctx: StepContext): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    if (error instanceof StepError) throw error;
    if (ctx.signal.aborted) throw new StepError({ message: `no complete response within ${ctx.def.timeoutMs} ms`, code: 'TIMEOUT', retryable: true });
    throw new StepError({
      message: `reading the response failed: ${error instanceof Error ? error.message : String(error)}`,
      code: 'NETWORK',
      retryable: true,
    });
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface StepRunnerOptions {
  /** Tests call servers on loopback; production never should. */
  allowPrivateEgress: boolean;
}

/** What each step type does when a worker runs it; `waitForEvent` is completed by events, not here. */
export function createStepRunners(options: StepRunnerOptions) {
  const agent = new Agent({ connect: guardedConnector(options.allowPrivateEgress), keepAliveTimeout: 10_000 });

  async function http(ctx: StepContext): Promise<Json> {
    const config = resolveMapping(ctx.def.with, ctx.scope) as Record<string, Json>;
    const url = typeof config.url === 'string' ? config.url : '';
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new StepError({ message: `url resolved to ${JSON.stringify(url)}, not a URL`, code: 'BAD_MAPPING', retryable: false });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new StepError({ message: 'only http and https are allowed', code: 'EGRESS_DENIED', retryable: false });
    const headers: Record<string, string> = { 'idempotency-key': ctx.idempotencyKey };
    if (config.headers !== null && typeof config.headers === 'object' && !Array.isArray(config.headers)) {
      for (const [name, value] of Object.entries(config.headers)) if (value !== null) headers[name.toLowerCase()] = String(value);
    }
    // A mapped value that no request can carry fails for good: sending it again cannot help.
    for (const [name, value] of Object.entries(headers)) {
      if (!isHeaderValue(value))
        throw new StepError({
          message: `header ${name} resolved to a value no request can carry (line breaks, NUL or characters beyond Latin-1)`,
          code: 'BAD_MAPPING',
          retryable: false,
        });
    }
    let body: string | undefined;
    if (config.body !== undefined && config.body !== null) {
      body = typeof config.body === 'string' ? config.body : JSON.stringify(config.body);
      headers['content-type'] ??= 'application/json';
    }
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(parsed, {
        method: String(config.method ?? 'GET').toUpperCase(),
        headers,
        body,
        dispatcher: agent,
        signal: ctx.signal,
        redirect: 'manual',
      });
    } catch (error) {
      const cause = error instanceof Error ? (error.cause ?? error) : error;
      if (cause instanceof EgressDeniedError) throw new StepError({ message: cause.message, code: 'EGRESS_DENIED', retryable: false });
      if (ctx.signal.aborted) throw new StepError({ message: `no response within ${ctx.def.timeoutMs} ms`, code: 'TIMEOUT', retryable: true });
      throw new StepError({ message: `request failed: ${cause instanceof Error ? cause.message : String(cause)}`, code: 'NETWORK', retryable: true });
    }
    const text = await readLimited(response, ctx);
    let data: Json = text;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        data = JSON.parse(text) as Json;
      } catch {
        data = text;
      }
    }
    if (response.status >= 500 || response.status === 429) {
      throw new StepError({ message: `HTTP ${response.status}`, code: response.status === 429 ? 'HTTP_429' : 'HTTP_5XX', retryable: true });
    }
    if (response.status >= 400) throw new StepError({ message: `HTTP ${response.status}`, code: 'HTTP_4XX', retryable: false });
    return { status: response.status, body: data };
  }

  // transform and log run inline in the engine; waitForEvent completes through sendEvent.
  const runners: Partial<Record<StepDefinition['type'], (ctx: StepContext) => Promise<Json>>> = {
    http,
    // The wait already happened: a worker claimed the step only once its time came.
    delay: async (ctx) => ({ waitedMs: resolveMapping(ctx.def.with.ms, ctx.scope) }),
  };

  return {
    run: async (ctx: StepContext) => {
      const runner = runners[ctx.def.type];
      if (runner === undefined) throw new StepError({ message: `${ctx.def.type} steps are not run by workers`, code: 'INTERNAL', retryable: false });
      return runner(ctx);
    },
    close: () => agent.close(),
  };
}
export type StepRunners = ReturnType<typeof createStepRunners>;
