import type { CallerContext } from '@tansu/platform/context-token';
import type { Logger } from '@tansu/platform/logger';

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
