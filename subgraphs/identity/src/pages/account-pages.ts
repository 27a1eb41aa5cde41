import { escapeHtml, page } from './layout.ts';

/** The pages emailed links open: a form first, so a mail scanner following the link spends nothing. */
export type AccountPage = 'verify-email' | 'reset-password' | 'accept-invitation';

const TITLES: Record<AccountPage, { title: string; button: string; password?: string }> = {
  'verify-email': { title: 'Confirm your email', button: 'Confirm my address' },
  'reset-password': { title: 'Choose a new password', button: 'Set password', password: 'New password' },
  'accept-invitation': { title: 'Join', button: 'Create my account', password: 'Choose a password' },
};

export function accountFormPage(options: { kind: AccountPage; tenantName: string; token: string; error?: string }): string {
  const words = TITLES[options.kind];
  const title = options.kind === 'accept-invitation' ? `Join ${options.tenantName}` : `${words.title} (${options.tenantName})`;
  const password =
    words.password === undefined
      ? ''
      : `<label for="password">${escapeHtml(words.password)}</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">`;
  return page(
    title,
    `${options.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post"><input type="hidden" name="token" value="${escapeHtml(options.token)}">${password}
<button type="submit">${escapeHtml(words.button)}</button></form>`,
  );
}

export function accountDonePage(options: { tenantName: string; message: string }): string {
  return page(`Done (${options.tenantName})`, `<p role="status">${escapeHtml(options.message)}</p>`);
}
