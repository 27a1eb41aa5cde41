import { escapeHtml, page } from './layout.ts';

// The OpenID Provider's own pages (its errors, sign-out), in the look of ours.

export function issuerErrorPage(options: { tenantName: string; error: string; description?: string }): string {
  return page(
    `Sign in to ${options.tenantName}`,
    `<p class="error" role="alert">${escapeHtml(options.description ?? 'This request cannot be completed.')}</p><p>Error: <code>${escapeHtml(options.error)}</code></p>`,
  );
}

/** `form` is the provider's own hidden logout form (its markup, not user input); the buttons submit it. */
export function signOutPage(options: { tenantName: string; form: string }): string {
  return page(
    `Sign out of ${options.tenantName}?`,
    `${options.form}<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

export function signedOutPage(options: { tenantName: string }): string {
  return page(`Signed out of ${options.tenantName}`, '<p role="status">You are signed out. You can close this page.</p>');
}
