import { escapeHtml, page } from './layout.ts';

// The steps of signing in at a tenant's issuer: password or another provider, second factor, consent.

export function loginPage(options: {
  action: string;
  tenantName: string;
  clientName: string;
  email?: string;
  error?: string;
  providers?: { href: string; name: string }[];
}): string {
  const providers = options.providers ?? [];
  return page(
    `Sign in to ${options.tenantName}`,
    `<p>${escapeHtml(options.clientName)} asks you to sign in.</p>
${options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(options.action)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(options.email ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>${
      providers.length === 0
        ? ''
        : `\n<p>Or:</p><ul>${providers.map((p) => `<li><a href="${escapeHtml(p.href)}">Continue with ${escapeHtml(p.name)}</a></li>`).join('')}</ul>`
    }`,
  );
}

/** A sign-in through another provider that failed, said on the issuer's page. */
export function upstreamErrorPage(options: { tenantName: string; message: string }): string {
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
