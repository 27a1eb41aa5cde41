import type { CallerContext } from '@tansu/platform/context-token';
import { isUuid } from '@tansu/platform/uuid';
import type { Database } from '@tansu/platform/db/database';
import { TansuError, errors } from '@tansu/platform/errors';
import { authorize, type TenantCaller } from '@tansu/tenant-core/guards';
import type { Json } from './definitions/mapping.ts';
import { UNSTORABLE_MESSAGE, unstorableTextAt } from './definitions/storable-json.ts';
import { validateWorkflowName, validateWorkflowSpec } from './definitions/workflow-definition.ts';
import { RUN_STATUSES, type RunRow, type RunStatus } from './rows.ts';
import type { NewRun } from './engine/create-runs.ts';
import type { RunEngine } from './engine/run-engine.ts';

export const MAX_INPUT_BYTES = 64 * 1024;
/** Runs one startWorkflows call may start. */
export const MAX_BATCH = 100;
const MAX_PAGE = 100;

function requireWriter(caller: CallerContext): TenantCaller {
  return authorize(caller, { role: 'DEVELOPER', scope: 'tansu:write', action: 'change workflows and runs' });
}

function requireReader(caller: CallerContext): TenantCaller {
  return authorize(caller, { role: 'VIEWER', scope: 'tansu:read', action: 'read workflows and runs' });
}

function checkSize(field: string, value: unknown, max: number): void {
  const size = Buffer.byteLength(JSON.stringify(value ?? null));
  if (size > max) throw new TansuError('PAYLOAD_TOO_LARGE', `${field} is ${size} bytes; the limit is ${max}`, { extensions: { field } });
}

/** Names the field holding text Postgres would refuse, rather than a refusal naming nothing. */
function checkStorable(field: string, value: unknown): void {
  const at = unstorableTextAt(value, field);
  if (at !== undefined) throw errors.badInput(at, UNSTORABLE_MESSAGE);
}

function pageSize(first: number | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw errors.badInput('first', `must be between 1 and ${MAX_PAGE}`);
  return n;
}

/** Run ids are uuids; anything else cannot name a run (and must not reach SQL as one). */
function runId(id: string): string {
  if (!isUuid(id)) throw errors.notFound('Run');
  return id.toLowerCase();
}

/** A date Postgres can compare with (JavaScript also accepts years Postgres cannot hold). */
function storableDate(value: string): boolean {
  const time = Date.parse(value);
  if (Number.isNaN(time)) return false;
  const year = new Date(time).getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * A page of runs ends at a (creation time, id) pair. The time travels in microseconds, as
 * Postgres keeps it: runs started together share one timestamp, and a cursor rounded to
 * milliseconds would skip those after the page's last one.
 */
export interface RunCursor {
  createdMicros: string;
  id: string;
}

export function encodeCursor(value: RunCursor | string): string {
  return Buffer.from(typeof value === 'string' ? value : `${value.createdMicros}|${value.id}`).toString('base64url');
}

/** Microseconds since 1970, or the ISO date-time earlier cursors carried (to the millisecond). */
function decodeRunCursor(after: string): RunCursor {
  const text = Buffer.from(after, 'base64url').toString('utf8');
  const [createdAt, id, extra] = text.split('|');
  if (createdAt === undefined || id === undefined || extra !== undefined || !isUuid(id)) throw errors.badInput('after', 'is not a valid cursor');
  if (/^\d{1,18}$/.test(createdAt)) return { createdMicros: createdAt, id };
  if (!storableDate(createdAt)) throw errors.badInput('after', 'is not a valid cursor');
  return { createdMicros: String(BigInt(Date.parse(createdAt)) * 1000n), id };
}

function decodeLogCursor(after: string): string {
  const text = Buffer.from(after, 'base64url').toString('utf8');
  if (!/^\d{1,18}$/.test(text)) throw errors.badInput('after', 'is not a valid cursor');
  return text;
}

/** The request a call serves, as the router passed it on: recorded with the runs it starts. */
export interface RequestOrigin {
  requestId: string;
  traceparent?: string;
}

export interface RunFilter {
  status?: RunStatus[] | null;
  workflow?: string | null;
  createdAfter?: string | null;
  createdBefore?: string | null;
}

/** A run as the API offers it: its row with its workflow's name and version. */
export type RunRecord = Omit<RunRow, 'request_id' | 'traceparent'> & {
  workflow: string;
  version: number;
  /** created_at to the microsecond, for cursors. */
  created_micros: string;
};

const RUN_COLUMNS = `r.id, r.tenant_id, r.definition_id, d.name as workflow, d.version, r.status, r.input, r.output, r.error,
  r.idempotency_key, r.started_by, r.created_at, (extract(epoch from r.created_at) * 1000000)::bigint::text as created_micros, r.updated_at, r.finished_at`;

/** Workflow definitions and runs as the GraphQL layer offers them; every call checks the caller. */
export function createWorkflowService(deps: { db: Database; engine: RunEngine }) {
  const { db, engine } = deps;

  async function loadRun(tenantId: string, id: string): Promise<RunRecord | null> {
    const rows = await db.withTenant(tenantId, (em) =>
      em.execute<RunRecord[]>(`select ${RUN_COLUMNS} from workflow.runs r join workflow.definitions d on d.id = r.definition_id where r.id = ?`, [runId(id)]),
    );
    return rows[0] ?? null;
  }

  async function mustLoadRun(tenantId: string, id: string): Promise<RunRecord> {
    const run = await loadRun(tenantId, id);
    if (run === null) throw errors.notFound('Run');
    return run;
  }

  /**
   * Starts runs of one workflow in one transaction (a batch is up to MAX_BATCH runs). A run
   * whose idempotency key is already used is not started again: its existing run is returned.
   */
  async function startMany(
    caller: CallerContext,
    input: { workflow: string; version?: number | null; runs: { input?: Json; idempotencyKey?: string | null }[] },
    origin?: RequestOrigin,
  ): Promise<RunRecord[]> {
    const c = requireWriter(caller);
    if (input.runs.length === 0 || input.runs.length > MAX_BATCH) throw errors.badInput('runs', `must hold 1 to ${MAX_BATCH} runs`);
    checkStorable('workflow', input.workflow);
    for (const [index, run] of input.runs.entries()) {
      const field = (name: string) => (input.runs.length === 1 ? name : `runs[${index}].${name}`);
      checkSize(field('input'), run.input, MAX_INPUT_BYTES);
      checkStorable(field('input'), run.input);
      const key = run.idempotencyKey ?? null;
      if (key !== null && (key.length === 0 || key.length > 200)) throw errors.badInput(field('idempotencyKey'), 'must be 1-200 characters');
      checkStorable(field('idempotencyKey'), key);
    }
    const attempt = () =>
      db.withTenant(c.tenantId, async (em) => {
        const defs = await em.execute<{ id: string }[]>(
          `select id from workflow.definitions where name = ?${input.version == null ? '' : ' and version = ?'} order by version desc limit 1`,
          input.version == null ? [input.workflow] : [input.workflow, input.version],
        );
        if (defs[0] === undefined)
          throw errors.notFound(`Workflow "${String(input.workflow).slice(0, 100)}"${input.version == null ? '' : ` version ${input.version}`}`);
        const keys = input.runs.map((r) => r.idempotencyKey ?? null).filter((k): k is string => k !== null);
        const existing = new Map<string, string>();
        if (keys.length > 0) {
          const rows = await em.execute<{ id: string; idempotency_key: string; workflow: string }[]>(
            `select r.id, r.idempotency_key, d.name as workflow from workflow.runs r join workflow.definitions d on d.id = r.definition_id where r.idempotency_key in (?)`,
            [keys],
          );
          for (const row of rows) {
            // A key names one run of one workflow; reusing it for another workflow is a mistake to report.
            if (row.workflow !== input.workflow) throw errors.conflict(`Idempotency key "${row.idempotency_key}" was used for workflow "${row.workflow}"`);
            existing.set(row.idempotency_key, row.id);
          }
        }
        // Each key starts one run, also when a batch repeats it; known keys return their run.
        const fresh: NewRun[] = [];
        const slots: (string | number)[] = [];
        const pending = new Map<string, number>();
        for (const run of input.runs) {
          const key = run.idempotencyKey ?? null;
          const known = key === null ? undefined : existing.get(key);
          if (known !== undefined) {
            slots.push(known);
          } else if (key !== null && pending.has(key)) {
            slots.push(pending.get(key)!);
          } else {
            if (key !== null) pending.set(key, fresh.length);
            slots.push(fresh.length);
            fresh.push({
              tenantId: c.tenantId,
              definitionId: defs[0].id,
              input: run.input ?? {},
              idempotencyKey: key,
              startedBy: c.subject,
              requestId: origin?.requestId ?? null,
              traceparent: origin?.traceparent ?? null,
            });
          }
        }
        const created = fresh.length === 0 ? [] : await engine.createRuns(em, fresh);
        return slots.map((slot) => (typeof slot === 'string' ? slot : created[slot]!));
      });
    // Two starts with one key at the same instant: the loser's second try finds the winner's run.
    const ids = await attempt().catch((error: unknown) => {
      if (error instanceof TansuError && error.code === 'CONFLICT') return attempt();
      throw error;
    });
    const rows = await db.withTenant(c.tenantId, (em) =>
      em.execute<RunRecord[]>(`select ${RUN_COLUMNS} from workflow.runs r join workflow.definitions d on d.id = r.definition_id where r.id in (?)`, [ids]),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)!);
  }

  return {
    async createDefinition(caller: CallerContext, input: { name: unknown; steps: unknown }) {
      const c = requireWriter(caller);
      const name = validateWorkflowName(input.name);
      const spec = validateWorkflowSpec({ steps: input.steps });
      return db.withTenant(c.tenantId, async (em) => {
        // Two creates of one name at once take turns, so each gets the next version (not a conflict).
        await em.execute(`select pg_advisory_xact_lock(hashtext(?))`, [`workflow-definition:${c.tenantId}:${name}`]);
        const [row] = await em.execute<{ version: number }[]>(`select coalesce(max(version), 0) + 1 as version from workflow.definitions where name = ?`, [
          name,
        ]);
        const id = crypto.randomUUID();
        const rows = await em.execute<{ id: string; name: string; version: number; spec: Json; created_by: string | null; created_at: Date }[]>(
          `insert into workflow.definitions (id, tenant_id, name, version, spec, created_by) values (?, ?, ?, ?, ?::jsonb, ?)
           returning id, name, version, spec, created_by, created_at`,
          [id, c.tenantId, name, row!.version, JSON.stringify(spec), c.subject],
        );
        return rows[0]!;
      });
    },

    async definitions(caller: CallerContext, first: number | undefined) {
      const c = requireReader(caller);
      return db.withTenant(c.tenantId, (em) =>
        em.execute(`select id, name, version, spec, created_by, created_at from workflow.definitions order by name, version desc limit ?`, [pageSize(first)]),
      );
    },

    async definition(caller: CallerContext, name: string, version: number | null | undefined) {
      const c = requireReader(caller);
      checkStorable('name', name);
      const rows = await db.withTenant(c.tenantId, (em) =>
        em.execute(
          `select id, name, version, spec, created_by, created_at from workflow.definitions where name = ?${version == null ? '' : ' and version = ?'} order by version desc limit 1`,
          version == null ? [name] : [name, version],
        ),
      );
      return rows[0] ?? null;
    },

    async definitionById(tenantId: string, id: string) {
      const rows = await db.withTenant(tenantId, (em) =>
        em.execute(`select id, name, version, spec, created_by, created_at from workflow.definitions where id = ?`, [id]),
      );
      return rows[0] ?? null;
    },

    async start(
      caller: CallerContext,
      input: { workflow: string; version?: number | null; input?: Json; idempotencyKey?: string | null },
      origin?: RequestOrigin,
    ): Promise<RunRecord> {
      const [run] = await startMany(
        caller,
        { workflow: input.workflow, version: input.version, runs: [{ input: input.input, idempotencyKey: input.idempotencyKey }] },
        origin,
      );
      return run!;
    },

    startMany,

    async cancel(caller: CallerContext, id: string): Promise<RunRecord> {
      const c = requireWriter(caller);
      await db.withTenant(c.tenantId, (em) => engine.cancelRun(em, runId(id)));
      return mustLoadRun(c.tenantId, id);
    },

    async retry(caller: CallerContext, id: string): Promise<RunRecord> {
      const c = requireWriter(caller);
      await db.withTenant(c.tenantId, (em) => engine.retryRun(em, runId(id)));
      return mustLoadRun(c.tenantId, id);
    },

    async sendEvent(caller: CallerContext, input: { event: string; payload?: Json }): Promise<number> {
      const c = requireWriter(caller);
      if (input.event.length === 0 || input.event.length > 200) throw errors.badInput('event', 'must be 1-200 characters');
      checkStorable('event', input.event);
      checkSize('payload', input.payload, MAX_INPUT_BYTES);
      checkStorable('payload', input.payload);
      const woken = await db.withTenant(c.tenantId, (em) => engine.deliverEvent(em, input.event, input.payload ?? null));
      return woken;
    },

    async run(caller: CallerContext, id: string): Promise<RunRecord | null> {
      const c = requireReader(caller);
      return isUuid(id) ? loadRun(c.tenantId, id) : null;
    },

    async runs(
      caller: CallerContext,
      filter: RunFilter | null | undefined,
      first: number | undefined,
      after: string | null | undefined,
      deadLetterOnly = false,
    ) {
      const c = requireReader(caller);
      const limit = pageSize(first);
      const where: string[] = [];
      const params: unknown[] = [];
      const statuses = deadLetterOnly ? ['FAILED', 'TIMED_OUT'] : (filter?.status ?? []);
      for (const status of statuses)
        if (!(RUN_STATUSES as readonly string[]).includes(status)) throw errors.badInput('filter.status', `unknown status ${status}`);
      if (statuses.length > 0) {
        where.push(`r.status in (?)`);
        params.push(statuses);
      }
      if (filter?.workflow != null) {
        checkStorable('filter.workflow', filter.workflow);
        where.push('d.name = ?');
        params.push(filter.workflow);
      }
      for (const [field, op] of [
        ['createdAfter', '>='],
        ['createdBefore', '<'],
      ] as const) {
        const value = filter?.[field];
        if (value == null) continue;
        if (!storableDate(value)) throw errors.badInput(`filter.${field}`, 'must be an ISO-8601 date-time between years 1 and 9999');
        where.push(`r.created_at ${op} ?`);
        params.push(new Date(value));
      }
      if (after != null) {
        const cursor = decodeRunCursor(after);
        where.push(`(r.created_at, r.id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?)`);
        params.push(cursor.createdMicros, cursor.id);
      }
      const rows = await db.withTenant(c.tenantId, (em) =>
        em.execute<RunRecord[]>(
          `select ${RUN_COLUMNS} from workflow.runs r join workflow.definitions d on d.id = r.definition_id
           ${where.length > 0 ? `where ${where.join(' and ')}` : ''} order by r.created_at desc, r.id desc limit ?`,
          [...params, limit + 1],
        ),
      );
      const nodes = rows.slice(0, limit);
      const last = nodes.at(-1);
      return {
        nodes,
        hasMore: rows.length > limit,
        endCursor: last === undefined ? null : encodeCursor({ createdMicros: last.created_micros, id: last.id }),
      };
    },

    async steps(tenantId: string, run: RunRecord) {
      return db.withTenant(tenantId, (em) =>
        em.execute<
          {
            step_id: string;
            status: string;
            attempt: number;
            output: Json;
            error: string | null;
            error_code: string | null;
            started_at: Date | null;
            finished_at: Date | null;
          }[]
        >(`select step_id, status, attempt, output, error, error_code, started_at, finished_at from workflow.steps where run_id = ?`, [run.id]),
      );
    },

    async attempts(tenantId: string, runIdValue: string) {
      return db.withTenant(tenantId, (em) =>
        em.execute<{ step_id: string; attempt: number; status: string; error: string | null; started_at: Date; finished_at: Date | null }[]>(
          `select step_id, attempt, status, error, started_at, finished_at from workflow.step_attempts where run_id = ? order by step_id, attempt`,
          [runIdValue],
        ),
      );
    },

    async logs(caller: CallerContext, id: string, first: number | undefined, after: string | null | undefined) {
      const c = requireReader(caller);
      const limit = pageSize(first);
      const cursor = after == null ? '0' : decodeLogCursor(after);
      const rows = await db.withTenant(c.tenantId, (em) =>
        em.execute<{ id: string; step_id: string | null; level: string; message: string; data: Json; created_at: Date }[]>(
          `select id::text as id, step_id, level, message, data, created_at from workflow.run_logs where run_id = ? and id > ?::bigint order by id limit ?`,
          [runId(id), cursor, limit + 1],
        ),
      );
      const edges = rows.slice(0, limit);
      const last = edges.at(-1);
      return { edges, hasMore: rows.length > limit, endCursor: last === undefined ? (after ?? null) : encodeCursor(last.id) };
    },
  };
}
export type WorkflowService = ReturnType<typeof createWorkflowService>;
