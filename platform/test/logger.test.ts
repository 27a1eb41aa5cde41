import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '@tansu/platform/logger';

function capture(format: 'json' | 'pretty' | undefined, write: (logger: ReturnType<typeof createLogger>) => void): string[] {
  const destination = new PassThrough();
  const chunks: string[] = [];
  destination.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const logger = createLogger({ level: 'debug', service: 'router', ...(format === undefined ? {} : { format }), destination });
  write(logger);
  destination.end();
  return chunks
    .join('')
    .split('\n')
    .filter((line) => line !== '');
}

describe('createLogger', () => {
  it('writes JSON unless asked for the pretty format', () => {
    const [line] = capture(undefined, (logger) => logger.info({ port: 4000 }, 'listening'));
    const entry = JSON.parse(line ?? '') as Record<string, unknown>;
    assert.equal(entry.msg, 'listening');
    assert.equal(entry.service, 'router');
    assert.equal(entry.port, 4000);
  });

  it('pretty: one line with time, level, the innermost service, the message and the entry fields', () => {
    const lines = capture('pretty', (logger) => logger.child({ service: 'outbox-relay' }).warn({ tenantId: 't-1' }, 'relay paused'));
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: outbox-relay: relay paused \{"tenantId":"t-1"\}$/);
    assert.doesNotMatch(lines[0] ?? '', /pid|hostname|"level"/);
  });

  it('pretty: secrets stay redacted', () => {
    const lines = capture('pretty', (logger) => logger.info({ user: { password: 'hunter2' }, secret: 's3cret' }, 'signed in'));
    assert.doesNotMatch(lines.join('\n'), /hunter2|s3cret/);
    assert.match(lines.join('\n'), /\[redacted\]/);
  });
});

describe('logProcessWarnings', () => {
  it('sends Node warnings to the logger at debug level instead of stderr', () => {
    const script = [
      "import { createLogger, logProcessWarnings } from '@tansu/platform/logger';",
      "const logger = createLogger({ level: process.argv[1] ?? 'info', service: 'probe' });",
      'logProcessWarnings(logger);',
      "process.emitWarning('something is deprecated', 'DeprecationWarning');",
    ].join('\n');
    const run = (level: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script, level], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
    const quiet = run('info');
    assert.equal(quiet.stderr, '');
    assert.equal(quiet.stdout, '');
    const debug = run('debug');
    assert.equal(debug.stderr, '');
    assert.match(debug.stdout, /"level":20.*"name":"DeprecationWarning".*"message":"something is deprecated"/);
  });
});
