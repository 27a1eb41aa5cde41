import type { IncomingMessage } from 'node:http';

/**
 * The address of the end user. Behind `trustedProxyHops` proxies (load balancers that each
 * append the address they saw to X-Forwarded-For), it is the entry that many places from
 * the right; anything further left was written by the client and is not trusted.
 */
export function clientAddress(req: IncomingMessage, trustedProxyHops: number): string | undefined {
  const socket = req.socket.remoteAddress;
  if (trustedProxyHops === 0) return socket;
  const forwarded = (req.headersDistinct['x-forwarded-for'] ?? [])
    .flatMap((h) => h.split(','))
    .map((a) => a.trim())
    .filter(Boolean);
  // The nearest proxy is the socket; each further hop adds one entry to the list. Too few
  // entries means a proxy is missing: nothing in the header can be trusted then.
  return forwarded[forwarded.length - trustedProxyHops] ?? socket;
}
