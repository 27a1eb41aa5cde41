import type { MailMessage } from '@tansu/platform/mail/mailer';
import { EMAIL_TOKEN_LIFETIME_SECONDS, type EmailTokenPurpose } from './email-tokens.ts';

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The page of the tenant's issuer that takes each kind of link. */
export const ACCOUNT_PAGE: Record<EmailTokenPurpose, string> = {
  verify_email: 'verify-email',
  reset_password: 'reset-password',
  invitation: 'accept-invitation',
};

export function accountLink(publicUrl: string, tenantSlug: string, purpose: EmailTokenPurpose, token: string): string {
  return `${publicUrl}/identity/${tenantSlug}/account/${ACCOUNT_PAGE[purpose]}?token=${token}`;
}

function lifetime(purpose: EmailTokenPurpose): string {
  const hours = EMAIL_TOKEN_LIFETIME_SECONDS[purpose] / 3_600;
  return hours === 1 ? 'one hour' : `${hours} hours`;
}

/** One account email: plain text first (what most clients and tests read), the same words as HTML. */
export function accountEmail(options: { purpose: EmailTokenPurpose; to: string; tenantName: string; link: string; role?: string }): MailMessage {
  const { tenantName, link } = options;
  const words: Record<EmailTokenPurpose, { subject: string; lead: string; action: string }> = {
    verify_email: {
      subject: `Confirm your email for ${tenantName}`,
      lead: `Confirm that this is your address for ${tenantName}.`,
      action: 'Confirm my address',
    },
    reset_password: {
      subject: `Reset your ${tenantName} password`,
      lead: `Someone asked to reset the password of your ${tenantName} account. If it was not you, ignore this email: your password stays as it is.`,
      action: 'Choose a new password',
    },
    invitation: {
      subject: `You are invited to ${tenantName}`,
      lead: `You are invited to join ${tenantName}${options.role === undefined ? '' : ` as ${options.role.toLowerCase()}`}.`,
      action: 'Accept the invitation',
    },
  };
  const { subject, lead, action } = words[options.purpose];
  const note = `The link works once, for ${lifetime(options.purpose)}.`;
  return {
    to: options.to,
    subject,
    text: `${lead}\n\n${action}:\n${link}\n\n${note}\n`,
    html: `<p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p><p>${escapeHtml(note)}</p>`,
  };
}
