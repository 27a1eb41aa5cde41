import type { CallerContext } from '@tansu/platform/context-token';

/** What a transport knows about a caller when an operation (or a WebSocket) asks to be admitted. */
export interface AdmissionRequest {
  transport: 'http' | 'ws';
  /**
   * Whether this counts as a request against the caller's limits: every HTTP request and every
   * operation on a socket does; a socket's `connection_init` is admitted without being counted.
   */
  counted: boolean;
  /** Every credential the client sent (an HTTP request may repeat the header; more than one is refused). */
  authorization: readonly string[];
  /** `x-tenant-id` as sent: the tenant the client means to act in. */
  tenantHeader: string | undefined;
  clientIp: string | undefined;
  userAgent: string | undefined;
}

export interface Admitted {
  caller: CallerContext;
  /** Requests with equal keys may share an upstream fetch or subscription: they have exactly the same signed caller. */
  shareKey: string;
}

/** Establishes who calls (anonymous when no credential was sent); throws a TansuError to refuse. */
export type Authenticate = (request: AdmissionRequest) => Promise<CallerContext>;

/** One check on an authenticated caller; throws a TansuError to refuse. */
export type AdmissionStep = (request: AdmissionRequest, caller: CallerContext) => void | Promise<void>;

export interface Admission {
  admit(request: AdmissionRequest): Promise<Admitted>;
}

const ANONYMOUS_KEY = 'anonymous';
const shareKeys = new WeakMap<CallerContext, string>();

/**
 * The sharing key of a caller: every field the router signs into the context it forwards, so
 * two requests share an upstream only when the subgraph would see the same caller for both.
 * Computed once per caller object (the authenticator hands out one object per token).
 */
export function shareKeyOf(caller: CallerContext): string {
  if (caller.tenantId === undefined) return ANONYMOUS_KEY;
  let key = shareKeys.get(caller);
  if (key === undefined) {
    key = JSON.stringify([
      caller.tenantId,
      caller.tenantSlug,
      caller.subject,
      caller.roles,
      caller.scopes,
      caller.clientId,
      caller.amr,
      caller.authTime,
      caller.issuedAt,
    ]);
    shareKeys.set(caller, key);
  }
  return key;
}

/**
 * The one way into the router, run by HTTP for each request and by the WebSocket for its
 * connection and for each operation on it: authenticate, then each step in order. Steps that
 * count (quotas, anonymous limits) come last, so a refused request is not counted.
 */
export function createAdmission(options: { authenticate: Authenticate; steps: readonly AdmissionStep[] }): Admission {
  const { authenticate, steps } = options;
  return {
    async admit(request) {
      const caller = await authenticate(request);
      for (const step of steps) await step(request, caller);
      return { caller, shareKey: shareKeyOf(caller) };
    },
  };
}
