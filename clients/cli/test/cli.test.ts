import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ADMIN, useTestStack } from '../../../tests/support/test-stack.ts';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';

const ctx = useTestStack();
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('the tansu command', () => {
  let config: string;

  /** Runs the command as a user would, in its own process (the platform runs in this one, so never synchronously). */
  function tansu(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [MAIN, ...args], {
        env: { ...process.env, TANSU_CONFIG_DIR: config, TANSU_PASSWORD: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  const json = <T>(run: CliRun): T => {
    assert.equal(run.status, 0, run.stderr || run.stdout);
    return JSON.parse(run.stdout) as T;
  };

  before(async () => {
    config = await mkdtemp(join(tmpdir(), 'tansu-cli-'));
  });
  after(() => rm(config, { recursive: true, force: true }));

  it('signs in once and keeps tokens, never the password, readable by the owner only', async () => {
    const run = await tansu(['login', '--url', ctx.stack.graphqlUrl, '--tenant', 'platform', '--email', ADMIN.email, '--json'], {
      TANSU_PASSWORD: ADMIN.password,
    });
    assert.deepEqual(json(run), { profile: 'default', url: ctx.stack.graphqlUrl, tenant: 'platform', email: ADMIN.email });
    const file = join(config, 'profiles.json');
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(ADMIN.password), 'the password is not stored');
    const saved = JSON.parse(text) as { default: { session: { refreshToken: string } } };
    assert.ok(saved.default.session.refreshToken.length > 0);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const me = json<{ email: string; roles: string[] }>(await tansu(['whoami', '--json']));
    assert.equal(me.email, ADMIN.email);
  });

  it('manages tenants as a platform administrator', async () => {
    const created = json<{ slug: string }>(await tansu(['tenants', 'create', 'initech', 'Initech', '--owner', 'peter@initech.test', '--json']));
    assert.equal(created.slug, 'initech');
    const listed = json<{ slug: string; status: string }[]>(await tansu(['tenants', 'list', '--json']));
    assert.ok(listed.some((t) => t.slug === 'initech' && t.status === 'ACTIVE'));
    assert.equal(json<{ status: string }>(await tansu(['tenants', 'suspend', 'initech', '--json'])).status, 'SUSPENDED');
    assert.equal(json<{ status: string }>(await tansu(['tenants', 'resume', 'initech', '--json'])).status, 'ACTIVE');
    const human = await tansu(['tenants', 'list']);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /^SLUG\s+NAME\s+STATUS\s+PLAN$/m);
    assert.match(human.stdout, /^initech\s+Initech\s+ACTIVE\s+/m);
  });

  it("lists and invites the tenant's users", async () => {
    const listed = json<{ email: string; roles: string[] }[]>(await tansu(['users', 'list', '--json']));
    assert.deepEqual(listed.find((u) => u.email === ADMIN.email)?.roles, ['OWNER']);
    const invited = json<{ email: string; role: string }>(await tansu(['users', 'invite', 'new-admin@platform.test', '--role', 'admin', '--json']));
    assert.deepEqual(invited, { ...invited, email: 'new-admin@platform.test', role: 'ADMIN' });
    const wrongRole = await tansu(['users', 'invite', 'x@platform.test', '--role', 'boss']);
    assert.equal(wrongRole.status, 2);
    assert.match(wrongRole.stderr, /The role must be one of OWNER, ADMIN, DEVELOPER, VIEWER/);
  });

  it('answers a refusal with its code and exit status 1, and a wrong call with 2', async () => {
    const refused = await tansu(['tenants', 'create', 'Bad Slug', 'Whatever', '--json']);
    assert.equal(refused.status, 1);
    const body = JSON.parse(refused.stdout) as { error: { code: string; extensions: { field: string } } };
    assert.equal(body.error.code, 'BAD_USER_INPUT');
    assert.equal(body.error.extensions.field, 'slug');
    const human = await tansu(['tenants', 'create', 'Bad Slug', 'Whatever']);
    assert.equal(human.status, 1);
    assert.match(human.stderr, /^BAD_USER_INPUT: /);
    assert.equal((await tansu(['tenants', 'explode'])).status, 2);
    assert.equal((await tansu(['nonsense'])).status, 2);
    const other = await tansu(['whoami', '--profile', 'nobody']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /Not signed in \(profile nobody\): run tansu login first/);
  });

  it('applies a workflow, starts a run and watches it to the end, one JSON event a line', async () => {
    const url = ctx.stack.graphqlUrl;
    const seed = await seedTwoTenants(url);
    await setRole(url, seed.admin.accessToken, 'acme', seed.alice.user.id, 'DEVELOPER');
    const profile = ['--profile', 'alice'];
    json(await tansu(['login', '--url', url, '--tenant', 'acme', '--email', 'alice@acme.test', '--json', ...profile], { TANSU_PASSWORD: 'alice-password' }));
    const file = join(config, 'two-steps.json');
    await writeFile(
      file,
      JSON.stringify({
        name: 'two-steps',
        steps: [
          { id: 'first', type: 'delay', with: { ms: 100 } },
          { id: 'second', type: 'transform', needs: ['first'], with: { output: { done: true } } },
        ],
      }),
    );
    const applied = json<{ name: string; version: number }>(await tansu(['workflows', 'apply', file, '--json', ...profile]));
    assert.deepEqual(applied, { ...applied, name: 'two-steps', version: 1 });
    const watched = await tansu(['workflows', 'start', 'two-steps', '--watch', '--json', ...profile]);
    assert.equal(watched.status, 0, watched.stderr);
    const events = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; status: string | null; stepId: string | null; stepStatus: string | null });
    assert.deepEqual(events.at(-1), { ...events.at(-1), kind: 'RUN', status: 'SUCCEEDED' });
    assert.deepEqual(
      events.filter((e) => e.kind === 'STEP' && e.stepStatus === 'SUCCEEDED').map((e) => e.stepId),
      ['first', 'second'],
    );
    const runs = json<{ status: string; workflow: { name: string } }[]>(await tansu(['workflows', 'runs', '--json', ...profile]));
    assert.equal(runs[0]?.workflow.name, 'two-steps');
    assert.equal(runs[0]?.status, 'SUCCEEDED');
  });

  it('forgets a profile on logout', async () => {
    assert.deepEqual(json(await tansu(['logout', '--profile', 'alice', '--json'])), { profile: 'alice', removed: true });
    assert.equal((await tansu(['whoami', '--profile', 'alice'])).status, 2);
  });
});
