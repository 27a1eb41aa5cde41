import type { CallerContext, ContextTokenCodec } from '@tansu/platform/context-token';
import type { Logger } from '@tansu/platform/logger';
import { traceFrom } from '@tansu/platform/trace-context';
import type { Admitted } from './admission/admission.ts';

/** What every router request carries from authentication to the subgraph fetches. */
export interface RouterContext {
  caller: CallerContext;
  requestId: string;
  /** The end user's address and agent, as the router saw them. */
  clientIp: string | undefined;
  userAgent: string | undefined;
  /** Both, signed for `x-tansu-client`: subgraphs rate-limit and audit by them (absent without a secret). */
  clientToken: string | undefined;
  /** `traceparent` forwarded to subgraphs. */
  traceparent: string;
  logger: Logger;
  /** The signed `x-tansu-context` value, made once per request (absent without a secret). */
  contextToken: string | undefined;
  /** Requests with equal keys may share identical in-flight subgraph fetches. */
  shareKey: string;
}

/** The context of one admitted operation, the same whichever transport brought it. */
export function createRouterContext(
  admitted: Admitted,
  request: { requestId: string; traceparent: string | undefined; clientIp: string | undefined; userAgent: string | undefined },
  deps: { codec: ContextTokenCodec | undefined; logger: Logger; contextTtlSeconds?: number },
): RouterContext {
  const trace = traceFrom(request.traceparent);
  const { caller, shareKey } = admitted;
  let logger: Logger | undefined;
  return {
    caller,
    requestId: request.requestId,
    clientIp: request.clientIp,
    userAgent: request.userAgent,
    clientToken: deps.codec?.signClient({ ip: request.clientIp, userAgent: request.userAgent }, deps.contextTtlSeconds),
    traceparent: trace.traceparent,
    // Most requests log nothing: the child logger is made on first use.
    get logger() {
      logger ??= deps.logger.child({ requestId: request.requestId, tenantId: caller.tenantId, traceId: trace.traceId });
      return logger;
    },
    contextToken: deps.codec?.sign(caller, deps.contextTtlSeconds),
    shareKey,
  };
}
