import type { EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import type { Mailer } from '@tansu/platform/mail/mailer';
import { accountEmail, accountLink } from './account-emails.ts';
import { issueEmailToken, retireEmailTokens, type IssuedEmailToken } from './email-tokens.ts';
import type { Role, Tenant } from './entities.ts';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An address as accounts store it (trimmed, lowercase), or BAD_USER_INPUT naming `field`. */
export function normalizeEmail(email: string, field = 'email'): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !EMAIL_PATTERN.test(normalized)) throw errors.badInput(field, 'is not a valid email address');
  return normalized;
}

/**
 * Invites an address to join a tenant with a role, in the caller's transaction: an earlier
 * open invitation of the address is replaced, the new link is stored, and the mail is sent
 * before the transaction commits, so a mail server that refuses leaves no invitation behind
 * (MAIL_UNAVAILABLE undoes the whole transaction). The invitee accepts with
 * `acceptInvitation` or the page the link opens.
 */
export async function sendInvitation(
  em: EntityManager,
  deps: { mailer: Mailer; publicUrl: string },
  invitation: { tenant: Pick<Tenant, 'id' | 'slug' | 'name'>; email: string; role: Role; createdBy?: string },
): Promise<IssuedEmailToken> {
  const { tenant, email, role } = invitation;
  await retireEmailTokens(em, { purpose: 'invitation', email });
  const { token, row } = await issueEmailToken(em, { tenantId: tenant.id, purpose: 'invitation', email, role, createdBy: invitation.createdBy });
  await deps.mailer.send(
    accountEmail({ purpose: 'invitation', to: email, tenantName: tenant.name, link: accountLink(deps.publicUrl, tenant.slug, 'invitation', token), role }),
  );
  return row;
}
