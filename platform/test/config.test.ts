import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, deriveSecrets, loadConfig } from '@tansu/platform/config';

const SECRET = 'a-master-secret-that-is-long-enough-0123456789';
const OTHER_SECRET = 'another-master-secret-long-enough-9876543210';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    assert.deepEqual(config, {
      mode: 'development',
      logLevel: 'info',
      publicUrl: 'http://localhost:4000',
      host: '127.0.0.1',
      port: 4000,
      dataDir: '.tansu',
      databaseUrl: undefined,
      databaseAppUrl: undefined,
      redisUrl: undefined,
      redisNamespace: 'tansu',
      secret: undefined,
      contextSecret: undefined,
      jwtAudience: 'tansu',
      jwksUrlTemplate: undefined,
      subgraphs: {},
      workflowTenantConcurrency: 20,
      defaultPlan: 'free',
      schemaVariant: 'main',
      persistedDocumentsOnly: false,
      tenantPurgeDelaySeconds: 3_600,
      egressAllowPrivate: false,
      adminEmail: undefined,
      adminPassword: undefined,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 30 * 86_400,
      refreshReuseGraceSeconds: 10,
      lockoutThreshold: 5,
      lockoutSeconds: 900,
      credentialRatePerMinute: 60,
      anonymousRatePerMinute: 300,
      smtpUrl: undefined,
      mailFrom: 'Tansu <no-reply@localhost>',
      playground: true,
      trustedProxyHops: 0,
      corsOrigins: ['*'],
      limits: { maxBodyBytes: 1_048_576, maxDepth: 12, maxAliases: 30, maxCost: 100_000, maxSocketsPerUser: 32, maxSubscriptionsPerSocket: 100 },
    });
  });

  it('places each subgraph it is told of at its default port, or at <NAME>_PORT and <NAME>_URL', () => {
    const placements = [
      { name: 'alpha', port: 4201 },
      { name: 'beta-two', port: 4202 },
    ];
    assert.deepEqual(loadConfig({}, { subgraphs: placements }).subgraphs, {
      alpha: { port: 4201, url: 'http://127.0.0.1:4201' },
      'beta-two': { port: 4202, url: 'http://127.0.0.1:4202' },
    });
    const moved = loadConfig({ ALPHA_PORT: '0', BETA_TWO_URL: 'http://beta:4202/' }, { subgraphs: placements }).subgraphs;
    assert.deepEqual(moved, { alpha: { port: 0, url: 'http://127.0.0.1:0' }, 'beta-two': { port: 4202, url: 'http://beta:4202' } });
    assert.throws(
      () => loadConfig({ ALPHA_PORT: 'x', BETA_TWO_URL: 'ftp://beta' }, { subgraphs: placements }),
      (error: Error) => {
        assert.match(error.message, /ALPHA_PORT/);
        assert.match(error.message, /BETA_TWO_URL/);
        return true;
      },
    );
  });

  it('treats empty strings as unset', () => {
    assert.deepEqual(loadConfig({ PORT: '', DATABASE_URL: '', TANSU_SECRET: '' }), loadConfig({}));
  });

  it('derives production defaults from NODE_ENV', () => {
    const config = loadConfig({ NODE_ENV: 'production' });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.playground, false);
    assert.equal(loadConfig({ NODE_ENV: 'test' }).logLevel, 'silent');
  });

  it('reads and normalises set variables', () => {
    const config = loadConfig({
      PORT: '8080',
      PUBLIC_URL: 'https://api.example.com/',
      DATABASE_URL: 'postgresql://u:p@db:5432/tansu',
      REDIS_URL: 'rediss://cache:6380',
      TANSU_JWKS_URL: 'http://identity:4101/identity/{tenant}/.well-known/jwks.json',
      TANSU_PLAYGROUND: 'off',
      TANSU_MAX_DEPTH: '5',
    });
    assert.equal(config.port, 8080);
    // Issuers are built by appending paths, so a trailing slash would double up.
    assert.equal(config.publicUrl, 'https://api.example.com');
    assert.equal(config.databaseUrl, 'postgresql://u:p@db:5432/tansu');
    assert.equal(config.redisUrl, 'rediss://cache:6380');
    assert.equal(config.playground, false);
    assert.equal(config.limits.maxDepth, 5);
  });

  it('reports every bad variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        TANSU_SECRET: 'short',
        DATABASE_URL: 'http://db:5432/tansu',
        TANSU_JWKS_URL: 'http://identity/jwks.json',
        TANSU_ADMIN_EMAIL: 'admin@example.com',
        TANSU_SMTP_URL: 'http://mail.example.com',
        TANSU_DEFAULT_PLAN: 'Gold Plan',
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
    const { problems } = caught;
    assert.equal(problems.length, 7, problems.join('\n'));
    for (const name of ['PORT', 'TANSU_SECRET', 'DATABASE_URL', 'TANSU_JWKS_URL', 'TANSU_ADMIN_EMAIL', 'TANSU_SMTP_URL', 'TANSU_DEFAULT_PLAN']) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `no problem names ${name}: ${problems.join('\n')}`,
      );
    }
    for (const problem of problems) assert.ok(caught.message.includes(problem));
  });

  it('refuses out-of-range numbers, bad booleans, unknown modes and malformed URLs', () => {
    assert.throws(
      () => loadConfig({ PORT: '70000', TANSU_PLAYGROUND: 'maybe', NODE_ENV: 'staging', REDIS_URL: 'not a url', TANSU_MAX_DEPTH: '0' }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 5,
    );
  });

  it('wants the admin password when the admin email is set, and a long one', () => {
    assert.throws(() => loadConfig({ TANSU_ADMIN_PASSWORD: 'long-enough-password' }), ConfigError);
    assert.throws(() => loadConfig({ TANSU_ADMIN_EMAIL: 'a@b.c', TANSU_ADMIN_PASSWORD: 'short' }), ConfigError);
    const config = loadConfig({ TANSU_ADMIN_EMAIL: 'a@b.c', TANSU_ADMIN_PASSWORD: 'long-enough-password' });
    assert.equal(config.adminEmail, 'a@b.c');
  });

  it('returns a frozen result, limits included', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.limits));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.limits as { maxCost: number }).maxCost = 1;
    }, TypeError);
  });
});

describe('deriveSecrets', () => {
  it('gives a different key for every purpose', () => {
    const secrets = deriveSecrets({ secret: SECRET, contextSecret: undefined });
    assert.equal(secrets.contextKey.length, 32);
    assert.equal(secrets.keyEncryptionKey.length, 32);
    assert.ok(!secrets.contextKey.equals(secrets.keyEncryptionKey));
    const password = Buffer.from(secrets.appDbPassword, 'base64url');
    assert.equal(password.length, 32);
    assert.ok(!password.equals(secrets.contextKey));
    assert.ok(!password.equals(secrets.keyEncryptionKey));
    assert.ok(!secrets.contextKey.equals(Buffer.from(SECRET).subarray(0, 32)));
  });

  it('is deterministic and depends on the secret', () => {
    const a = deriveSecrets({ secret: SECRET, contextSecret: undefined });
    const b = deriveSecrets({ secret: SECRET, contextSecret: undefined });
    assert.deepEqual(a, b);
    const other = deriveSecrets({ secret: OTHER_SECRET, contextSecret: undefined });
    assert.ok(!other.contextKey.equals(a.contextKey));
    assert.ok(!other.keyEncryptionKey.equals(a.keyEncryptionKey));
    assert.notEqual(other.appDbPassword, a.appDbPassword);
  });

  it('derives the context key from TANSU_CONTEXT_SECRET alone, as a standalone router has only that', () => {
    const routerOnly = deriveSecrets({ secret: undefined, contextSecret: OTHER_SECRET });
    const full = deriveSecrets({ secret: SECRET, contextSecret: OTHER_SECRET });
    assert.ok(routerOnly.contextKey.equals(full.contextKey));
    // The context secret, when set, wins over the master secret for the context key only.
    assert.ok(!full.contextKey.equals(deriveSecrets({ secret: SECRET, contextSecret: undefined }).contextKey));
    assert.ok(full.keyEncryptionKey.equals(deriveSecrets({ secret: SECRET, contextSecret: undefined }).keyEncryptionKey));
  });

  it('refuses to derive anything without a secret', () => {
    assert.throws(() => deriveSecrets({ secret: undefined, contextSecret: undefined }), ConfigError);
  });
});
