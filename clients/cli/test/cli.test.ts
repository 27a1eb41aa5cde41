import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ADMIN, useTestStack } from '../../../tests/support/test-stack.ts';
import { seedTwoTenants, setRole } from '../../../tests/support/seed.ts';
import { createTenant, dataOf, expectError, gql, signIn, signUp } from '../../../tests/support/graphql-client.ts';
import { enrollTotp, nextTotp } from '../../../tests/support/mfa.ts';

// Deleted tenants are purged at once, so `tenants delete` can be watched to the end.
const ctx = useTestStack({ TANSU_TENANT_PURGE_DELAY: '0' });
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// util-linux `script` runs a command on a pseudo-terminal: how a person at a terminal sees the command.
const SCRIPT = '/usr/bin/script';
const hasTerminal = existsSync(SCRIPT);
const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

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

  /** The command on a terminal (stdin, stdout and stderr), as a person runs it, `typed` at the keyboard: what the terminal showed, both streams mixed. */
  function tansuOnTerminal(args: string[], typed = ''): Promise<CliRun> {
    return new Promise((resolve) => {
      const child = spawn(SCRIPT, ['--quiet', '--return', '--command', [process.execPath, MAIN, ...args].map(quote).join(' '), '/dev/null'], {
        env: { ...process.env, TANSU_CONFIG_DIR: config, TANSU_PASSWORD: '' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin.end(typed);
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
    const foreign = await tansu(['whoami', '--owner', 'x@platform.test']);
    assert.equal(foreign.status, 2);
    assert.match(foreign.stderr, /^whoami does not take --owner/);
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

  it('applies a folder of definitions one after the other, and prints only the result when no terminal reads it', async () => {
    const profile = ['--profile', 'alice'];
    const folder = join(config, 'definitions');
    await mkdir(folder);
    const definition = (name: string) => JSON.stringify({ name, steps: [{ id: 'only', type: 'transform', with: { output: { name } } }] });
    await writeFile(join(folder, 'a-first.json'), definition('folder-first'));
    await writeFile(join(folder, 'b-second.json'), definition('folder-second'));
    await writeFile(join(folder, 'notes.txt'), 'not a definition');

    const applied = json<{ applied: { file: string; name: string; version: number }[]; refused: unknown[] }>(
      await tansu(['workflows', 'apply', folder, '--json', ...profile]),
    );
    assert.deepEqual(
      applied.applied.map((a) => [a.file, a.name, a.version]),
      [
        [join(folder, 'a-first.json'), 'folder-first', 1],
        [join(folder, 'b-second.json'), 'folder-second', 1],
      ],
    );
    assert.deepEqual(applied.refused, []);

    // Without a terminal, nothing but the result.
    const piped = await tansu(['workflows', 'apply', folder, ...profile]);
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    assert.match(piped.stdout, /^FILE\s+RESULT$/m);
  });

  it(
    'draws the bar on a terminal as it applies each definition',
    { skip: hasTerminal ? false : `needs util-linux script at ${SCRIPT} for a pseudo-terminal` },
    async () => {
      const folder = join(config, 'definitions');
      const screen = await tansuOnTerminal(['workflows', 'apply', folder, '--profile', 'alice']);
      assert.equal(screen.status, 0, screen.stdout);
      assert.match(screen.stdout, /\r\[------------------------\] 0\/2 applying a-first\.json/);
      assert.match(screen.stdout, /\r\[############------------\] 1\/2 applying b-second\.json/);
      assert.match(screen.stdout, /\r\[########################\] 2\/2 done/);
      assert.match(screen.stdout, /b-second\.json\s+folder-second version 3/);
      assert.match(screen.stdout, /^2 applied, 0 refused/m);
    },
  );

  it('applies every other definition when the platform refuses one, and names its file and code', async () => {
    const profile = ['--profile', 'alice'];
    const folder = join(config, 'mixed');
    await mkdir(folder);
    await writeFile(join(folder, '1.json'), JSON.stringify({ name: 'mixed-ok', steps: [{ id: 'a', type: 'delay', with: { ms: 1 } }] }));
    await writeFile(join(folder, '2.json'), JSON.stringify({ name: 'mixed-bad', steps: [{ id: 'a', type: 'teleport' }] }));
    const run = await tansu(['workflows', 'apply', join(folder, '2.json'), join(folder, '1.json'), '--json', ...profile]);
    assert.equal(run.status, 1, run.stderr);
    const body = JSON.parse(run.stdout) as { applied: { file: string; name: string }[]; refused: { file: string; code: string; field: string }[] };
    assert.deepEqual(
      body.applied.map((a) => [a.file, a.name]),
      [[join(folder, '1.json'), 'mixed-ok']],
    );
    assert.deepEqual(
      body.refused.map((r) => [r.file, r.code]),
      [[join(folder, '2.json'), 'BAD_USER_INPUT']],
    );
    assert.match(body.refused[0]!.field, /steps/);

    // A file that is not a definition at all: the call is wrong, and nothing is sent.
    await writeFile(join(folder, '3.json'), '{ "name": "mixed-later" ');
    const wrong = await tansu(['workflows', 'apply', folder, '--json', ...profile]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /3\.json is not JSON/);
    const again = json<{ name: string; version: number }>(await tansu(['workflows', 'apply', join(folder, '1.json'), '--json', ...profile]));
    assert.equal(again.version, 2, 'the refused folder applied nothing');
  });

  it('invites a list of addresses from a file, each refusal listed with its code', async () => {
    const list = join(config, 'invite.csv');
    await writeFile(list, ['email,role', '# the ops team', 'ops@platform.test,developer', '', 'reader@platform.test', `${ADMIN.email},admin`].join('\n'));
    const run = await tansu(['users', 'invite', '--file', list, '--json']);
    assert.equal(run.status, 1, run.stderr);
    const body = JSON.parse(run.stdout) as { invited: { email: string; role: string }[]; refused: { email: string; role: string; code: string }[] };
    assert.deepEqual(
      body.invited.map((i) => [i.email, i.role]),
      [
        ['ops@platform.test', 'DEVELOPER'],
        ['reader@platform.test', 'VIEWER'],
      ],
    );
    assert.deepEqual(
      body.refused.map((r) => [r.email, r.role, r.code]),
      [[ADMIN.email, 'ADMIN', 'CONFLICT']],
    );

    const human = await tansu(['users', 'invite', 'auditor@platform.test', ADMIN.email, '--role', 'viewer']);
    assert.equal(human.status, 1, human.stderr);
    assert.match(human.stdout, /^auditor@platform\.test\s+VIEWER\s+invited, the link expires /m);
    assert.match(human.stdout, new RegExp(`^${ADMIN.email.replace('.', '\\.')}\\s+VIEWER\\s+CONFLICT: `, 'm'));
    assert.match(human.stdout, /^1 invited, 1 refused$/m);

    await writeFile(list, 'late@platform.test\nsomeone@platform.test,boss\n');
    const wrong = await tansu(['users', 'invite', '--file', list]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /invite\.csv:2: The role must be one of OWNER, ADMIN, DEVELOPER, VIEWER/);
  });

  it(
    'asks for the slug to be typed on a terminal before deleting, and refuses a mismatch',
    { skip: hasTerminal ? false : `needs util-linux script at ${SCRIPT} for a pseudo-terminal` },
    async () => {
      const screen = await tansuOnTerminal(['tenants', 'delete', 'initech'], 'initech-not\n');
      assert.equal(screen.status, 2, screen.stdout);
      assert.match(screen.stdout, /Deleting initech removes all its data for good\. Type initech to confirm: /);
      assert.match(screen.stdout, /Not confirmed: initech is left as it was/);
      const listed = json<{ slug: string; status: string }[]>(await tansu(['tenants', 'list', '--json']));
      assert.equal(listed.find((t) => t.slug === 'initech')?.status, 'ACTIVE');
    },
  );

  it('deletes a tenant after proving a second factor, and waits until it is purged', async () => {
    const url = ctx.stack.graphqlUrl;
    const admin = await signIn(url, 'platform', ADMIN.email, ADMIN.password);
    await createTenant(url, admin.accessToken, 'doomed', 'Doomed Inc');
    await signUp(url, 'doomed', 'dee@doomed.test', 'dee-password');
    const { secret } = await enrollTotp(url, admin.accessToken);
    const listed = async () => json<{ slug: string; status: string }[]>(await tansu(['tenants', 'list', '--json'])).find((t) => t.slug === 'doomed');

    const unconfirmed = await tansu(['tenants', 'delete', 'doomed']);
    assert.equal(unconfirmed.status, 2);
    assert.match(unconfirmed.stderr, /Deleting doomed is final: pass --yes/);

    const noCode = await tansu(['tenants', 'delete', 'doomed', '--yes', '--json']);
    assert.equal(noCode.status, 1, noCode.stderr);
    assert.equal((JSON.parse(noCode.stdout) as { error: { code: string } }).error.code, 'MFA_REQUIRED');
    const noCodeHuman = await tansu(['tenants', 'delete', 'doomed', '--yes']);
    assert.equal(noCodeHuman.status, 1);
    assert.match(noCodeHuman.stderr, /^MFA_REQUIRED: .*pass --code CODE/);
    assert.equal((await listed())?.status, 'ACTIVE', 'refused calls left the tenant as it was');

    const deleted = await tansu(['tenants', 'delete', 'doomed', '--yes', '--code', await nextTotp(secret), '--timeout', '60', '--json']);
    const result = json<Record<string, unknown>>(deleted);
    assert.deepEqual(result, { ...result, slug: 'doomed', status: 'DELETED', purged: true });
    assert.equal(await listed(), undefined, 'the tenant is gone');
    expectError(
      await gql(url, 'mutation($i: SignInInput!) { signIn(input: $i) { accessToken } }', {
        variables: { i: { tenant: 'doomed', email: 'dee@doomed.test', password: 'dee-password' } },
      }),
      'NOT_FOUND',
    );
    // The profile keeps the stepped-up session: the next deletion within ten minutes needs no code.
    await createTenant(url, admin.accessToken, 'doomed-too', 'Doomed Too');
    const next = json<Record<string, unknown>>(await tansu(['tenants', 'delete', 'doomed-too', '--yes', '--json']));
    assert.deepEqual(next, { ...next, slug: 'doomed-too', status: 'DELETED', purged: false });
    assert.equal(json<{ email: string }>(await tansu(['whoami', '--json'])).email, ADMIN.email);
    dataOf(await gql(url, '{ me { id } }', { token: admin.accessToken }));
  });

  it('shows the wait for the purge on a terminal', { skip: hasTerminal ? false : `needs util-linux script at ${SCRIPT} for a pseudo-terminal` }, async () => {
    // The profile still holds the session stepped up above.
    json(await tansu(['tenants', 'create', 'doomed-three', 'Doomed Three', '--json']));
    const screen = await tansuOnTerminal(['tenants', 'delete', 'doomed-three', '--yes', '--timeout', '60']);
    assert.equal(screen.status, 0, screen.stdout);
    assert.match(screen.stdout, /doomed-three is DELETED: its users and tokens are refused from now on/);
    assert.match(screen.stdout, /\r\[###-{21}\] waiting for doomed-three to be purged \(DELETED, 0 s\)/);
    assert.match(screen.stdout, /Deleted doomed-three: purged, nothing of it is left/);
  });

  it('forgets a profile on logout', async () => {
    assert.deepEqual(json(await tansu(['logout', '--profile', 'alice', '--json'])), { profile: 'alice', removed: true });
    assert.equal((await tansu(['whoami', '--profile', 'alice'])).status, 2);
  });
});
