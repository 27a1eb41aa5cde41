import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deriveSecrets } from '@tansu/platform/config';
import type { CallerContext } from '@tansu/platform/context-token';
import { openDatabase, type Database } from '@tansu/platform/db/database';
import { OutboxEventEntity } from '@tansu/platform/events/outbox';
import { TEST_SECRET, openTestDatabase } from '@tansu/platform/testing/test-servers';
import { tenantCoreEntities, type Tenant } from '@tansu/tenant-core/entities';
import { provisionTenant } from '@tansu/tenant-core/tenant-registry';
import { tableOwners } from '@tansu/supergraph/tables';
import { createAuthService, type AuthService } from '@tansu/subgraph-identity/auth-service';
import { identityEntities } from '@tansu/subgraph-identity/entities';
import { liveSessionsOf } from '@tansu/subgraph-identity/sessions/session-store';
import { createUserSessions } from '@tansu/subgraph-identity/sessions/user-sessions';
import { createSigningKeyCache } from '@tansu/subgraph-identity/signing-keys';

const KEK = deriveSecrets({ secret: TEST_SECRET, contextSecret: undefined }).keyEncryptionKey;

// Ending sessions while their refresh tokens are being exchanged: no exchange may outlive the end.
describe('ending sessions during a refresh', () => {
  const cleanups: (() => Promise<void>)[] = [];
  let db: Database;
  let acme: Tenant;
  let auth: AuthService;
  let userId: string;
  const revoked: string[] = [];

  before(async () => {
    const database = await openTestDatabase({ tables: tableOwners });
    cleanups.push(database.close);
    db = await openDatabase({ url: database.appUrl, entities: [...tenantCoreEntities, OutboxEventEntity, ...identityEntities] });
    cleanups.push(() => db.close());
    acme = await provisionTenant(db, { slug: 'acme', name: 'Acme Corp' });
    auth = createAuthService({
      db,
      keys: createSigningKeyCache(KEK),
      publicUrl: 'http://tansu.test',
      audience: 'tansu',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 3600,
      refreshReuseGraceSeconds: 10,
    });
    userId = (await auth.createUser(acme, { email: 'carol@acme.test', password: 'carol-password' }, 'VIEWER')).user.id;
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const caller = (): CallerContext => ({ tenantId: acme.id, tenantSlug: 'acme', subject: userId, roles: ['VIEWER'], scopes: [] });
  const live = () => db.withTenant(acme.id, async (em) => (await liveSessionsOf(em, [userId]))[0]!);

  it('leaves no session that can be renewed, whichever of the two commits first', async () => {
    const sessions = createUserSessions({ db, revokeSessions: async (_tenantId, user) => void revoked.push(user) });
    for (let round = 0; round < 15; round++) {
      const started = await auth.signIn({ tenant: 'acme', email: 'carol@acme.test', password: 'carol-password' });
      const [renewed, ended] = await Promise.allSettled([
        auth.refresh({ tenant: 'acme', refreshToken: started.refreshToken }),
        sessions.endAll(caller(), userId),
      ]);
      assert.equal(ended.status, 'fulfilled');
      assert.deepEqual(await live(), [], `round ${round}: a session outlived its end`);
      if (renewed.status === 'fulfilled') {
        await assert.rejects(auth.refresh({ tenant: 'acme', refreshToken: renewed.value.refreshToken }), /Invalid or expired refresh token/);
      }
    }
    assert.equal(revoked.length, 15, 'each end announced the revocation');
  });
});
