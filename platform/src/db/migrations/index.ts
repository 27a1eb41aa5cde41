import { Migration0001PlatformAndIdentity } from './0001-platform-and-identity.ts';

/** Applied in this order; a name once released never changes. */
export const migrations = [{ name: '0001-platform-and-identity', class: Migration0001PlatformAndIdentity }];
