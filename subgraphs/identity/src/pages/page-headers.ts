import type { ServerResponse } from 'node:http';

/** Nobody may frame the issuer's pages: a sign-in or consent under another site's overlay is clickjacking. */
const FRAME_ANCESTORS = "frame-ancestors 'none'";

/**
 * Our pages load nothing from anywhere, run no script, and are never framed (X-Frame-Options
 * for browsers that predate frame-ancestors).
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; ${FRAME_ANCESTORS}`,
  'x-frame-options': 'DENY',
} as const;

/**
 * For everything else the issuer answers (the provider's own pages included): no framing,
 * and nothing more, since the provider's auto-submitting form_post page needs its script.
 */
export function denyFraming(res: ServerResponse): void {
  res.setHeader('content-security-policy', FRAME_ANCESTORS);
  res.setHeader('x-frame-options', 'DENY');
}

/** Every HTML page of the issuer goes out here. */
export function sendHtml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, PAGE_HEADERS);
  res.end(body);
}
