import { relative } from 'node:path';
import { after, beforeEach } from 'node:test';
import { pino, type Logger } from 'pino';

/**
 * No request of the suite may log at error level or be answered INTERNAL unless its test says
 * so. Error lines are recorded while the test file runs and fail its `after` hook, named by the
 * test that was running; `gql` fails its test at once on an INTERNAL answer.
 */

/** An error-level line a test file provokes on purpose, and why. */
export interface ExpectedErrorLog {
  /** Tested against the line's summary: `service: message: error message`. */
  match: RegExp;
  because: string;
}

interface LogEntry {
  level?: number;
  service?: string;
  msg?: string;
  requestId?: string;
  err?: { type?: string; message?: string; stack?: string };
}

interface GraphQLErrorLike {
  message?: string;
  extensions?: Record<string, unknown>;
}

const ERROR_LEVEL = pino.levels.values.error!;

export type RequestGuard = ReturnType<typeof createRequestGuard>;

export function createRequestGuard(expected: readonly ExpectedErrorLog[] = []) {
  const findings: string[] = [];
  const seen = new Set<ExpectedErrorLog>();
  let during = 'start-up';
  return {
    /** Names what is running, so a finding says which test it belongs to. */
    setDuring(name: string): void {
      during = name;
    },
    logLine(entry: LogEntry): void {
      const summary = [entry.service ?? '?', entry.msg ?? '', entry.err?.message].filter((part) => part !== undefined).join(': ');
      const allowed = expected.find((e) => e.match.test(summary));
      if (allowed !== undefined) return void seen.add(allowed);
      // A few frames say which code path logged it; the whole stack is noise here.
      const frames =
        entry.err?.stack
          ?.split('\n')
          .map((line) => line.trim())
          .filter((line) => line.startsWith('at '))
          .slice(0, 3) ?? [];
      findings.push(
        [`during "${during}": error log ${summary}${entry.requestId === undefined ? '' : ` (requestId ${entry.requestId})`}`, ...frames].join('\n    '),
      );
    },
    internalAnswer(where: string, errors: readonly GraphQLErrorLike[]): void {
      findings.push(`during "${during}": INTERNAL answer ${where}: ${JSON.stringify(errors)}`);
    },
    problems(): string[] {
      const unused = expected.filter((e) => !seen.has(e)).map((e) => `the expected error log ${e.match} (${e.because}) never appeared: drop it`);
      return [...findings, ...unused];
    },
  };
}

let active: RequestGuard | undefined;

/** Makes `guard` the one that log lines and WebSocket answers of this process report to; returns the undo. */
export function activateGuard(guard: RequestGuard): () => void {
  const previous = active;
  active = guard;
  return () => void (active = previous);
}

/**
 * Arms the guard for this test file: call at its top level (useTestStack does). Its `after`
 * runs `beforeCheck` first (stopping the stack), so what shutting down logs is checked too.
 */
export function useRequestGuard(options: { expectErrorLogs?: readonly ExpectedErrorLog[]; beforeCheck?: () => Promise<void> } = {}): void {
  const guard = createRequestGuard(options.expectErrorLogs);
  activateGuard(guard);
  beforeEach((t) => guard.setDuring(t.fullName));
  after(async () => {
    guard.setDuring('shut-down');
    await options.beforeCheck?.();
    const problems = guard.problems();
    // The runner names this hook by where it is written; say which test file it guards.
    const file = relative(process.cwd(), process.argv[1] ?? 'this test file');
    if (problems.length > 0) throw new Error(`${file} produced ${problems.length} server fault(s):\n  ${problems.join('\n  ')}`);
  });
}

function parseLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
}

function recordEntry(entry: LogEntry): void {
  if ((entry.level ?? 0) >= ERROR_LEVEL) active?.logLine(entry);
}

/** Reports a child process's JSON log line to the active guard when it is at error level or above; `service` names the process. */
export function recordLogLine(line: string, service: string): void {
  const entry = parseLine(line);
  if (entry !== undefined) recordEntry({ ...entry, service: entry.service === undefined ? service : `${service}/${entry.service}` });
}

/** The errors of an answer that carry extensions.code INTERNAL. */
export function internalErrors(errors: readonly GraphQLErrorLike[] | undefined): GraphQLErrorLike[] {
  return (errors ?? []).filter((error) => error.extensions?.code === 'INTERNAL');
}

/** Reports an INTERNAL answer that no test asked for to the active guard. */
export function recordInternalAnswer(where: string, errors: readonly GraphQLErrorLike[]): void {
  active?.internalAnswer(where, errors);
}

/** Where a test reads the stack's own log lines: every entry from `level` up, parsed. */
export interface LogTap {
  level: string;
  entries: Record<string, unknown>[];
}

/**
 * The stack's logger: prints from `level` up (nothing when silent), records every error line,
 * and hands `tap` its entries. Its own level is never above error, and no lower than asked
 * (by `level` or `tap`), so debug lines stay free.
 */
export function createGuardedLogger(level: string, service: string, tap?: LogTap): Logger {
  const printFrom = pino.levels.values[level] ?? Number.POSITIVE_INFINITY;
  const tapFrom = tap === undefined ? Number.POSITIVE_INFINITY : (pino.levels.values[tap.level] ?? Number.POSITIVE_INFINITY);
  const lowest = Math.min(printFrom, tapFrom, ERROR_LEVEL);
  return pino(
    { level: pino.levels.labels[lowest] ?? 'error', base: { service } },
    {
      write(line: string) {
        const entry = parseLine(line) ?? {};
        recordEntry(entry);
        if ((entry.level ?? 0) >= tapFrom) tap?.entries.push(entry as Record<string, unknown>);
        if ((entry.level ?? 0) >= printFrom) process.stdout.write(line);
      },
    },
  );
}
