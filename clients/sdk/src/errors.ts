/** The codes a Tansu platform answers with (`extensions.code`). */
export const PLATFORM_ERROR_CODES = [
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
] as const;

/** A platform code, or `NETWORK` when no answer came. */
export type TansuErrorCode = (typeof PLATFORM_ERROR_CODES)[number] | 'NETWORK';

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorEntry {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/**
 * A refusal or failure, typed by its code. `errors` holds every error of the response (the
 * first one gave the code); `extensions` its details: `field` for bad input, `retryAfter`
 * for limits, `requestId` for an INTERNAL one to quote to the operator.
 */
export class TansuError extends Error {
  readonly code: TansuErrorCode;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly errors: readonly GraphQLErrorEntry[];
  /** The HTTP status, when the answer had one. */
  readonly status: number | undefined;

  constructor(
    code: TansuErrorCode,
    message: string,
    options: { extensions?: Record<string, unknown>; errors?: readonly GraphQLErrorEntry[]; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TansuError';
    this.code = code;
    this.extensions = options.extensions ?? {};
    this.errors = options.errors ?? [];
    this.status = options.status;
  }

  /** The input field a BAD_USER_INPUT names. */
  get field(): string | undefined {
    return typeof this.extensions.field === 'string' ? this.extensions.field : undefined;
  }

  /** Seconds to wait before trying again (RATE_LIMITED, QUOTA_EXCEEDED). */
  get retryAfter(): number | undefined {
    return typeof this.extensions.retryAfter === 'number' ? this.extensions.retryAfter : undefined;
  }
}

/**
 * The password was right and a second factor is due: finish with `verifyMfa` (a code) or a
 * passkey, passing `mfaToken`; `enroll` means the account must set a factor up first.
 */
export class MfaRequiredError extends TansuError {
  readonly mfaToken: string;
  readonly enroll: boolean;

  constructor(message: string, extensions: Record<string, unknown>, errors: readonly GraphQLErrorEntry[], status?: number) {
    super('MFA_REQUIRED', message, { extensions, errors, status });
    this.name = 'MfaRequiredError';
    this.mfaToken = String(extensions.mfaToken ?? '');
    this.enroll = extensions.enroll === true;
  }
}

const KNOWN = new Set<string>(PLATFORM_ERROR_CODES);

/** The error a response's `errors` stand for: typed by the first one's code (unknown codes read as INTERNAL). */
export function errorFromResponse(errors: readonly GraphQLErrorEntry[], status?: number): TansuError {
  const first = errors[0] ?? { message: 'The response had neither data nor errors' };
  const extensions = first.extensions ?? {};
  const raw = typeof extensions.code === 'string' ? extensions.code : 'INTERNAL';
  if (raw === 'MFA_REQUIRED' && typeof extensions.mfaToken === 'string') return new MfaRequiredError(first.message, extensions, errors, status);
  return new TansuError(KNOWN.has(raw) ? (raw as TansuErrorCode) : 'INTERNAL', first.message, { extensions, errors, status });
}

/**
 * Refused for want of a second factor proven in the last ten minutes (deleting a tenant,
 * rotating keys, …): ask for a code, `auth.stepUp(code)`, then try again.
 */
export function isStepUpRequired(error: unknown): error is TansuError {
  return error instanceof TansuError && error.code === 'MFA_REQUIRED' && error.extensions.stepUp === true;
}
