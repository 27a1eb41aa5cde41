import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI as a user runs it: a real process, its output and exit status. */
function tansu(...args: string[]): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, ['schema/src/cli.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe('tansu schema check', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tansu-schema-'));
    const identity = await readFile(join(ROOT, 'subgraphs/identity/schema.graphql'), 'utf8');
    await writeFile(
      file('additive.graphql'),
      identity.replace('  email: String!\n  roles: [Role!]!', '  email: String!\n  displayName: String\n  roles: [Role!]!'),
    );
    await writeFile(file('breaking.graphql'), identity.replace('  email: String!\n', ''));
    await writeFile(file('garbage.graphql'), 'type Query {');
    await writeFile(file('uncomposable.graphql'), 'type Query { me: User }');
    await writeFile(file('me.graphql'), 'query Me { me { id email } }');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('passes an additive change with exit status 0', () => {
    const run = tansu('schema', 'check', '--subgraph', 'identity', '--schema', file('additive.graphql'));
    assert.equal(run.status, 0, run.out);
    assert.match(run.out, /PASS {2}subgraph identity/);
    assert.match(run.out, /safe {6}Field User\.displayName was added/);
  });

  it('fails a breaking change with the report, and names the registered operation it breaks', () => {
    const run = tansu('schema', 'check', '--subgraph', 'identity', '--schema', file('breaking.graphql'), '--documents', file('me.graphql'));
    assert.equal(run.status, 1, run.out);
    assert.match(run.out, /BREAKING +Field User\.email was removed/);
    assert.match(run.out, /me\.graphql: Cannot query field "email" on type "User"/);
    const json = tansu('schema', 'check', '--subgraph', 'identity', '--schema', file('breaking.graphql'), '--json');
    const report = JSON.parse(json.out) as { passed: boolean; changes: { kind: string; coordinate: string }[] };
    assert.equal(report.passed, false);
    assert.ok(report.changes.some((c) => c.kind === 'FIELD_REMOVED' && c.coordinate === 'User.email'));
  });

  it('says in one line, never with a stack trace, when the registry cannot be reached or a manifest is malformed', async () => {
    await writeFile(file('bad-manifest.json'), JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [null] }));
    const env = { ...process.env, DATABASE_URL: 'postgres://127.0.0.1:1/nowhere', REDIS_URL: 'redis://127.0.0.1:1' };
    const run = (args: string[]) => {
      const result = spawnSync(process.execPath, ['schema/src/cli.ts', 'schema', ...args], { cwd: ROOT, encoding: 'utf8', env });
      return { status: result.status, out: `${result.stdout}${result.stderr}` };
    };
    const malformed = run(['documents', '--client', 'web', '--manifest', file('bad-manifest.json')]);
    assert.equal(malformed.status, 2, malformed.out);
    assert.match(malformed.out, /Operation 1: needs a string id and body/);
    const unreachable = run(['publish', '--subgraph', 'identity', '--schema', file('additive.graphql')]);
    assert.equal(unreachable.status, 2, unreachable.out);
    assert.match(unreachable.out, /^error: the command could not run/m);
    for (const out of [malformed.out, unreachable.out]) assert.doesNotMatch(out, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  });

  it('reports unparseable SDL, composition failures and bad input readably, never with a stack trace', () => {
    const cases: [string[], number, RegExp][] = [
      [['--subgraph', 'identity', '--schema', file('garbage.graphql')], 1, /SDL does not parse/],
      [['--subgraph', 'identity', '--schema', file('uncomposable.graphql')], 1, /Composition errors:/],
      [['--subgraph', 'billing', '--schema', file('additive.graphql')], 2, /Unknown subgraph "billing"/],
      [['--subgraph', 'identity', '--schema', file('missing.graphql')], 2, /Cannot read schema/],
      [['--subgraph', 'identity'], 2, /--subgraph and --schema are required/],
      [['--subgraph', 'identity', '--schema', file('additive.graphql'), '--against', file('me.graphql')], 2, /is not a supergraph/],
      [['--bogus'], 2, /Unknown option/],
      [['--subgraph', 'identity', '--schema', file('additive.graphql'), '--variant', 'Prod'], 2, /--variant must be lowercase/],
    ];
    for (const [args, status, message] of cases) {
      const run = tansu('schema', 'check', ...args);
      assert.equal(run.status, status, `${args.join(' ')}: ${run.out}`);
      assert.match(run.out, message);
      assert.doesNotMatch(run.out, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    }
  });
});
