import { GraphQLError } from 'graphql';

/** The one set of codes a client can see. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_ALREADY_USED'
  | 'EMAIL_NOT_VERIFIED'
  | 'MFA_REQUIRED'
  | 'MAIL_UNAVAILABLE'
  | 'PERSISTED_DOCUMENT_NOT_FOUND'
  | 'PERSISTED_DOCUMENT_REQUIRED'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'QUOTA_EXCEEDED',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_ALREADY_USED',
  'EMAIL_NOT_VERIFIED',
  'MFA_REQUIRED',
  'MAIL_UNAVAILABLE',
  'PERSISTED_DOCUMENT_NOT_FOUND',
  'PERSISTED_DOCUMENT_REQUIRED',
  'INTERNAL',
];

const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  TOKEN_INVALID: 400,
  TOKEN_EXPIRED: 400,
  TOKEN_ALREADY_USED: 400,
  EMAIL_NOT_VERIFIED: 403,
  MFA_REQUIRED: 401,
  MAIL_UNAVAILABLE: 503,
  PERSISTED_DOCUMENT_NOT_FOUND: 400,
  PERSISTED_DOCUMENT_REQUIRED: 400,
  INTERNAL: 500,
};

/** Extensions a client may see besides the code: which field, which quota, when to retry, how to finish signing in. */
export const PUBLIC_EXTENSIONS = ['field', 'quota', 'limit', 'used', 'requested', 'plan', 'retryAfter', 'mfaToken', 'enroll', 'stepUp', 'scope'] as const;

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * An error whose message is safe to show a client. `status` is the HTTP status used when
 * the error ends a request before GraphQL execution (authentication, body limits).
 */
export class TansuError extends GraphQLError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; extensions?: Record<string, unknown> } = {}) {
    const status = HTTP_STATUS[code];
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      // Apollo Server reads `http.status` and strips it from what the client sees.
      extensions: { ...options.extensions, code, http: { status } },
    });
    this.name = 'TansuError';
    this.code = code;
    this.status = status;
    this.expose = code !== 'INTERNAL';
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

export const errors = {
  unauthenticated: (message = 'Authentication required') => new TansuError('UNAUTHENTICATED', message),
  forbidden: (message = 'Not allowed') => new TansuError('FORBIDDEN', message),
  notFound: (what: string) => new TansuError('NOT_FOUND', `${what} not found`),
  badInput: (field: string, message: string) => new TansuError('BAD_USER_INPUT', `${field}: ${message}`, { extensions: { field } }),
  badRequest: (message: string) => new TansuError('BAD_USER_INPUT', message),
  conflict: (message: string) => new TansuError('CONFLICT', message),
  quotaExceeded: (message: string) => new TansuError('QUOTA_EXCEEDED', message),
  rateLimited: (message = 'Too many requests') => new TansuError('RATE_LIMITED', message),
  payloadTooLarge: (limitBytes: number) => new TansuError('PAYLOAD_TOO_LARGE', `Request body exceeds ${limitBytes} bytes`),
  internal: (cause: unknown) => new TansuError('INTERNAL', 'Internal server error', { cause }),
};
