import { Migration0001PlatformAndIdentity } from './0001-platform-and-identity.ts';
import { Migration0002Workflow } from './0002-workflow.ts';
import { Migration0003Hardening } from './0003-hardening.ts';
import { Migration0004Notifications } from './0004-notifications.ts';
import { Migration0005StepAttemptBase } from './0005-step-attempt-base.ts';
import { Migration0006Oidc } from './0006-oidc.ts';
import { Migration0007TenantStatus } from './0007-tenant-status.ts';
import { Migration0008AuditLog } from './0008-audit-log.ts';
import { Migration0009KeyRotation } from './0009-key-rotation.ts';
import { Migration0010UserDisabled } from './0010-user-disabled.ts';
import { Migration0011TenantSettings } from './0011-tenant-settings.ts';
import { Migration0012EmailTokens } from './0012-email-tokens.ts';
import { Migration0013PlansAndUsage } from './0013-plans-and-usage.ts';
import { Migration0014Mfa } from './0014-mfa.ts';
import { Migration0015IdentityProviders } from './0015-identity-providers.ts';
import { Migration0016Passkeys } from './0016-passkeys.ts';
import { Migration0017SchemaRegistry } from './0017-schema-registry.ts';

/** Applied in this order; a name once released never changes. */
export const migrations = [
  { name: '0001-platform-and-identity', class: Migration0001PlatformAndIdentity },
  { name: '0002-workflow', class: Migration0002Workflow },
  { name: '0003-hardening', class: Migration0003Hardening },
  { name: '0004-notifications', class: Migration0004Notifications },
  { name: '0005-step-attempt-base', class: Migration0005StepAttemptBase },
  { name: '0006-oidc', class: Migration0006Oidc },
  { name: '0007-tenant-status', class: Migration0007TenantStatus },
  { name: '0008-audit-log', class: Migration0008AuditLog },
  { name: '0009-key-rotation', class: Migration0009KeyRotation },
  { name: '0010-user-disabled', class: Migration0010UserDisabled },
  { name: '0011-tenant-settings', class: Migration0011TenantSettings },
  { name: '0012-email-tokens', class: Migration0012EmailTokens },
  { name: '0013-plans-and-usage', class: Migration0013PlansAndUsage },
  { name: '0014-mfa', class: Migration0014Mfa },
  { name: '0015-identity-providers', class: Migration0015IdentityProviders },
  { name: '0016-passkeys', class: Migration0016Passkeys },
  { name: '0017-schema-registry', class: Migration0017SchemaRegistry },
];
