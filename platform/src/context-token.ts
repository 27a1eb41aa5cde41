import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from './errors.ts';

/**
 * The router's statement of who is calling, forwarded to subgraphs as `x-tansu-context`.
 * HMAC-SHA256 over the JSON payload: subgraphs trust only what the router signed.
 */
export const CONTEXT_HEADER = 'x-tansu-context';
/**
 * The end user's address and agent as the router saw them, signed like the context (clients
 * cannot set x-tansu-* headers, and a caller who reaches a service directly cannot forge it).
 */
export const CLIENT_HEADER = 'x-tansu-client';

export interface ClientInfo {
  ip: string | undefined;
  userAgent: string | undefined;
}

export interface CallerContext {
  /** Tenant id (uuid); absent for anonymous callers of public operations. */
  tenantId?: string;
  tenantSlug?: string;
  subject?: string;
  roles: string[];
  scopes: string[];
  clientId?: string;
  /** How the token's session was authenticated (`pwd`, `mfa`). */
  amr?: string[];
  /** When a factor last proved the user, in seconds since the epoch. */
  authTime?: number;
  /** When the token was issued, in seconds since the epoch (sessions ended later refuse it). */
  issuedAt?: number;
}

interface Payload extends CallerContext {
  exp: number;
}

export interface ContextTokenCodec {
  sign(context: CallerContext, ttlSeconds?: number): string;
  verify(token: string | undefined): CallerContext;
  /** The client's address and agent, for `x-tansu-client`. */
  signClient(client: ClientInfo, ttlSeconds?: number): string;
  /** What the router signed, or undefined when the header is absent, forged or stale. */
  verifyClient(token: string | undefined): ClientInfo | undefined;
}

const CLIENT_PURPOSE = 'client.';

export function createContextTokenCodec(key: Buffer, now: () => number = () => Date.now()): ContextTokenCodec {
  const mac = (data: string) => createHmac('sha256', key).update(data).digest();
  return {
    sign(context, ttlSeconds = 60) {
      const payload: Payload = { ...context, exp: Math.floor(now() / 1000) + ttlSeconds };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token) {
      if (token === undefined || token === '') throw errors.unauthenticated('Missing router context');
      const dot = token.indexOf('.');
      if (dot <= 0) throw errors.unauthenticated('Malformed router context');
      const body = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw errors.unauthenticated('Invalid router context');
      }
      let payload: Payload;
      try {
        payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
      } catch {
        throw errors.unauthenticated('Malformed router context');
      }
      if (typeof payload.exp !== 'number' || payload.exp * 1000 < now()) {
        throw errors.unauthenticated('Expired router context');
      }
      const { exp: _exp, ...context } = payload;
      return context;
    },
    signClient(client, ttlSeconds = 60) {
      const body = Buffer.from(JSON.stringify({ ip: client.ip, ua: client.userAgent, exp: Math.floor(now() / 1000) + ttlSeconds })).toString('base64url');
      // A distinct MAC input: a client token can never pass as a caller's context, nor the reverse.
      return `${body}.${mac(CLIENT_PURPOSE + body).toString('base64url')}`;
    },
    verifyClient(token) {
      if (token === undefined || token === '') return undefined;
      const dot = token.indexOf('.');
      if (dot <= 0) return undefined;
      const body = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(CLIENT_PURPOSE + body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { ip?: unknown; ua?: unknown; exp?: unknown };
        if (typeof payload.exp !== 'number' || payload.exp * 1000 < now()) return undefined;
        return { ip: typeof payload.ip === 'string' ? payload.ip : undefined, userAgent: typeof payload.ua === 'string' ? payload.ua : undefined };
      } catch {
        return undefined;
      }
    },
  };
}
