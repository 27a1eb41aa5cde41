import { hkdfSync } from 'node:crypto';

/**
 * The one place environment variables are read. Each deployable asks for the sections it
 * needs; every bad variable is reported at once and the result is frozen.
 */
export type Env = Record<string, string | undefined>;

export type Mode = 'development' | 'production' | 'test';

export interface Limits {
  maxBodyBytes: number;
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  /** WebSockets one user (or, without a token, one address) may hold open on one router. */
  maxSocketsPerUser: number;
  /** Operations one WebSocket may run at once. */
  maxSubscriptionsPerSocket: number;
}

export interface SubgraphAddress {
  port: number;
  url: string;
}

/** A subgraph the configuration should place: its name and default port. */
export interface SubgraphPlacement {
  name: string;
  port: number;
}

export interface TansuConfig {
  mode: Mode;
  logLevel: string;
  publicUrl: string;
  host: string;
  port: number;
  dataDir: string;
  /** Unset means: start embedded Postgres. */
  databaseUrl: string | undefined;
  /** Connection for the non-owner application role; derived from databaseUrl when unset. */
  databaseAppUrl: string | undefined;
  /** Unset means: start a redis-server child. */
  redisUrl: string | undefined;
  /** Prefix of queue keys, so installations (or test files) can share one Redis. */
  redisNamespace: string;
  secret: string | undefined;
  contextSecret: string | undefined;
  jwtAudience: string;
  jwksUrlTemplate: string | undefined;
  /** Each subgraph the caller named: the port it listens on (`<NAME>_PORT`) and where others reach it (`<NAME>_URL`). */
  subgraphs: Readonly<Record<string, SubgraphAddress>>;
  /** Routers run only operations clients registered (by id, or by their exact text). */
  persistedDocumentsOnly: boolean;
  /** Which published schema variant this installation's routers serve (the registry's dev, prod, …). */
  schemaVariant: string;
  /** The plan a new tenant gets unless its creator names another. */
  defaultPlan: string;
  /** How long a deleted tenant's data is kept before it is purged. */
  tenantPurgeDelaySeconds: number;
  /** Workflow steps one tenant may have dispatched or running at once. */
  workflowTenantConcurrency: number;
  /** Lets workflow http steps reach loopback and private networks (tests, trusted setups). */
  egressAllowPrivate: boolean;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Failed sign-ins of one account before it is locked, and for how long. */
  lockoutThreshold: number;
  lockoutSeconds: number;
  /** Credential requests (sign-in, sign-up, refresh) one address may make per minute. */
  credentialRatePerMinute: number;
  /** Requests without a token one address may make per minute, all routers together. */
  anonymousRatePerMinute: number;
  /** A rotated refresh token still works this long (two tabs refreshing at once); reuse after it revokes the family. */
  refreshReuseGraceSeconds: number;
  /** Where account emails go out; unset means they are written to the log (development). */
  smtpUrl: string | undefined;
  /** The From header of account emails. */
  mailFrom: string;
  playground: boolean;
  /** Proxies in front of the router that append to X-Forwarded-For; the client address is read past them. */
  trustedProxyHops: number;
  /** Browser origins allowed to call the endpoint; `*` for any. */
  corsOrigins: string[];
  limits: Limits;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

class Reader {
  readonly problems: string[] = [];
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  string(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
      }
      return raw.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} is not a valid URL`);
      return undefined;
    }
  }
}

/** The prefix of a subgraph's settings: `<NAME>_PORT`, `<NAME>_URL`. */
export function subgraphEnvPrefix(name: string): string {
  return name.toUpperCase().replaceAll('-', '_');
}

/** `options.subgraphs` names the subgraphs to place (the supergraph's list); the kernel knows none itself. */
export function loadConfig(env: Env = process.env, options: { subgraphs?: readonly SubgraphPlacement[] } = {}): Readonly<TansuConfig> {
  const r = new Reader(env);
  const modeRaw = r.string('NODE_ENV') ?? 'development';
  let mode: Mode = 'development';
  if (modeRaw === 'production' || modeRaw === 'test' || modeRaw === 'development') mode = modeRaw;
  else r.problems.push(`NODE_ENV must be development, production or test (got "${modeRaw}")`);

  const port = r.int('PORT', 4000, 0, 65535);
  const host = r.string('HOST') ?? (mode === 'production' ? '0.0.0.0' : '127.0.0.1');
  const publicUrl = r.url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  const subgraphs: Record<string, SubgraphAddress> = {};
  for (const { name, port: defaultPort } of options.subgraphs ?? []) {
    const prefix = subgraphEnvPrefix(name);
    const subgraphPort = r.int(`${prefix}_PORT`, defaultPort, 0, 65535);
    subgraphs[name] = { port: subgraphPort, url: r.url(`${prefix}_URL`, ['http:', 'https:']) ?? `http://127.0.0.1:${subgraphPort}` };
  }

  const secret = r.string('TANSU_SECRET');
  if (secret !== undefined && secret.length < 32) r.problems.push('TANSU_SECRET must be at least 32 characters');
  const contextSecret = r.string('TANSU_CONTEXT_SECRET');
  if (contextSecret !== undefined && contextSecret.length < 32) {
    r.problems.push('TANSU_CONTEXT_SECRET must be at least 32 characters');
  }

  const jwksUrlTemplate = r.string('TANSU_JWKS_URL');
  if (jwksUrlTemplate !== undefined && !jwksUrlTemplate.includes('{tenant}')) {
    r.problems.push('TANSU_JWKS_URL must contain the placeholder {tenant}');
  }

  const adminEmail = r.string('TANSU_ADMIN_EMAIL');
  const adminPassword = r.string('TANSU_ADMIN_PASSWORD');
  if (adminPassword !== undefined && adminPassword.length < 12) {
    r.problems.push('TANSU_ADMIN_PASSWORD must be at least 12 characters');
  }

  const config: TansuConfig = {
    mode,
    logLevel: r.string('LOG_LEVEL') ?? (mode === 'test' ? 'silent' : 'info'),
    publicUrl,
    host,
    port,
    dataDir: r.string('TANSU_DATA_DIR') ?? '.tansu',
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseAppUrl: r.url('DATABASE_APP_URL', ['postgres:', 'postgresql:']),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisNamespace: r.string('TANSU_REDIS_NAMESPACE') ?? 'tansu',
    secret,
    contextSecret,
    jwtAudience: r.string('TANSU_JWT_AUDIENCE') ?? 'tansu',
    jwksUrlTemplate,
    subgraphs,
    workflowTenantConcurrency: r.int('TANSU_WORKFLOW_TENANT_CONCURRENCY', 20, 1, 10_000),
    defaultPlan: r.string('TANSU_DEFAULT_PLAN') ?? 'free',
    schemaVariant: r.string('TANSU_SCHEMA_VARIANT') ?? 'main',
    persistedDocumentsOnly: r.bool('TANSU_PERSISTED_DOCUMENTS_ONLY', false),
    tenantPurgeDelaySeconds: r.int('TANSU_TENANT_PURGE_DELAY', 3_600, 0, 90 * 86_400),
    egressAllowPrivate: r.bool('TANSU_EGRESS_ALLOW_PRIVATE', false),
    adminEmail,
    adminPassword,
    accessTokenTtlSeconds: r.int('TANSU_ACCESS_TOKEN_TTL', 900, 30, 86_400),
    refreshTokenTtlSeconds: r.int('TANSU_REFRESH_TOKEN_TTL', 30 * 86_400, 60, 365 * 86_400),
    refreshReuseGraceSeconds: r.int('TANSU_REFRESH_REUSE_GRACE', 10, 0, 300),
    lockoutThreshold: r.int('TANSU_LOCKOUT_THRESHOLD', 5, 1, 1_000),
    lockoutSeconds: r.int('TANSU_LOCKOUT_SECONDS', 900, 1, 86_400),
    credentialRatePerMinute: r.int('TANSU_CREDENTIAL_RATE_PER_MINUTE', 60, 1, 100_000),
    anonymousRatePerMinute: r.int('TANSU_ANONYMOUS_RATE_PER_MINUTE', 300, 1, 1_000_000),
    smtpUrl: r.url('TANSU_SMTP_URL', ['smtp:', 'smtps:']),
    mailFrom: r.string('TANSU_MAIL_FROM') ?? 'Tansu <no-reply@localhost>',
    playground: r.bool('TANSU_PLAYGROUND', mode !== 'production'),
    trustedProxyHops: r.int('TANSU_TRUSTED_PROXY_HOPS', 0, 0, 10),
    // Tokens travel in a header, never a cookie, so allowing any origin exposes nothing by default.
    corsOrigins: (r.string('TANSU_CORS_ORIGINS') ?? '*')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    limits: {
      maxBodyBytes: r.int('TANSU_MAX_BODY_BYTES', 1_048_576, 1_024),
      maxDepth: r.int('TANSU_MAX_DEPTH', 12, 1, 1_000),
      maxAliases: r.int('TANSU_MAX_ALIASES', 30, 0, 10_000),
      maxCost: r.int('TANSU_MAX_COST', 100_000, 1),
      maxSocketsPerUser: r.int('TANSU_MAX_SOCKETS_PER_USER', 32, 1, 100_000),
      maxSubscriptionsPerSocket: r.int('TANSU_MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1, 100_000),
    },
  };

  if (!/^[a-z][a-z0-9-]{0,39}$/.test(config.schemaVariant))
    r.problems.push(`TANSU_SCHEMA_VARIANT must be lowercase letters, digits and dashes (got "${config.schemaVariant}")`);
  if (!/^[a-z][a-z0-9-]{1,39}$/.test(config.defaultPlan))
    r.problems.push(`TANSU_DEFAULT_PLAN must be a plan id such as free, pro or enterprise (got "${config.defaultPlan}")`);
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    r.problems.push('TANSU_ADMIN_EMAIL and TANSU_ADMIN_PASSWORD must be set together');
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze({ ...config, limits: Object.freeze(config.limits), subgraphs: Object.freeze(subgraphs) });
}

/** Keys derived from the one master secret, each for one purpose. */
export interface DerivedSecrets {
  contextKey: Buffer;
  keyEncryptionKey: Buffer;
  appDbPassword: string;
  /** Signs the OpenID providers' cookies. */
  cookieKey: string;
}

export function deriveSecrets(config: Pick<TansuConfig, 'secret' | 'contextSecret'>): DerivedSecrets {
  const master = config.secret ?? config.contextSecret;
  if (master === undefined) throw new ConfigError(['TANSU_SECRET (or TANSU_CONTEXT_SECRET) is not set']);
  const derive = (from: string, purpose: string) => Buffer.from(hkdfSync('sha256', from, 'tansu', purpose, 32));
  return {
    // A standalone router shares only the context secret with its subgraphs.
    contextKey: derive(config.contextSecret ?? master, 'context-token'),
    keyEncryptionKey: derive(master, 'key-encryption'),
    appDbPassword: derive(master, 'app-db-password').toString('base64url'),
    cookieKey: derive(master, 'oidc-cookies').toString('base64url'),
  };
}
