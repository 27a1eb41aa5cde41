import type { ServerResponse } from 'node:http';

/** Server-rendered sign-in and consent pages: plain forms, no scripts, no outside assets. */
export const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1rem;font-size:1rem}p.error{color:#a40000}`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

export function loginPage(options: { action: string; tenantName: string; clientName: string; email?: string; error?: string; providers?: { href: string; name: string }[] }): string {
  const providers = options.providers ?? [];
  return page(
    `Sign in to ${options.tenantName}`,
    `<p>${escapeHtml(options.clientName)} asks you to sign in.</p>
${options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(options.action)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>${
      providers.length === 0 ? '' : `\n<p>Or:</p><ul>${providers.map((p) => `<li><a href="${escapeHtml(p.href)}">Continue with ${escapeHtml(p.name)}</a></li>`).join('')}</ul>`
    }`,
  );
}

export function federatedErrorPage(options: { tenantName: string; message: string }): string {
  return page(`Sign in to ${options.tenantName}`, `<p class="error" role="alert">${escapeHtml(options.message)}</p>`);
}

export function consentPage(options: { action: string; clientName: string; scopes: string[]; error?: string }): string {
  return page(
    'Allow access?',
    `<p>${escapeHtml(options.clientName)} asks for: ${options.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') || 'your sign-in'}.</p>
${options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(options.action)}"><button type="submit">Allow</button></form>`,
  );
}

export function secondFactorPage(options: { action: string; tenantName: string; error?: string }): string {
  return page(
    `Two-step verification (${options.tenantName})`,
    `<p>Enter the code from your authenticator app, or one of your recovery codes.</p>
${options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(options.action)}">
<label for="code">Code</label><input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required maxlength="32">
<button type="submit">Verify</button></form>`,
  );
}

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
