import type { TableOwner } from '@tansu/platform/db/table-owner';
import { Migration0003Hardening } from './0003-hardening.ts';
import { Migration0006Oidc } from './0006-oidc.ts';
import { Migration0009KeyRotation } from './0009-key-rotation.ts';
import { Migration0010UserDisabled } from './0010-user-disabled.ts';
import { Migration0012EmailTokens } from './0012-email-tokens.ts';
import { Migration0014Mfa } from './0014-mfa.ts';
import { Migration0015IdentityProviders } from './0015-identity-providers.ts';
import { Migration0016Passkeys } from './0016-passkeys.ts';

/** Users, sessions, clients, factors and signing keys (the keys' table sits in the `platform` schema, where it was first made). */
export const identityTables: TableOwner = {
  name: 'identity',
  appSchemas: ['identity'],
  migrations: [
    { name: '0003-hardening', class: Migration0003Hardening },
    { name: '0006-oidc', class: Migration0006Oidc },
    { name: '0009-key-rotation', class: Migration0009KeyRotation },
    { name: '0010-user-disabled', class: Migration0010UserDisabled },
    { name: '0012-email-tokens', class: Migration0012EmailTokens },
    { name: '0014-mfa', class: Migration0014Mfa },
    { name: '0015-identity-providers', class: Migration0015IdentityProviders },
    { name: '0016-passkeys', class: Migration0016Passkeys },
  ],
};
