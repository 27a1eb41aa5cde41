import type { CallerContext } from '@tansu/platform/context-token';
import type { Database } from '@tansu/platform/db/database';
import { recordAudit } from '@tansu/tenant-core/audit-log';
import { authorize, requireRecentMfa } from '@tansu/tenant-core/guards';
import { generateSigningKey, rotateSigningKeys, type SigningKeyCache } from './signing-keys.ts';
import type { TenantProviders } from './oidc/tenant-providers.ts';

/**
 * Rotating a tenant's signing key: tokens signed before keep verifying (the retired key stays
 * published for a day), new ones are signed with the key that was already published as next.
 * This process switches at once; other replicas within their cache lifetime.
 */
export function createKeyRotation(deps: { db: Database; kek: Buffer; keys: SigningKeyCache; providers: TenantProviders }) {
  return {
    async rotate(caller: CallerContext): Promise<{ activeKid: string; nextKid: string }> {
      const c = authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: 'rotate signing keys' });
      requireRecentMfa(c);
      const [fresh, successor] = await Promise.all([generateSigningKey(deps.kek, c.tenantId), generateSigningKey(deps.kek, c.tenantId)]);
      const rotated = await deps.db.withTenant(c.tenantId, async (em) => {
        const result = await rotateSigningKeys(em, c.tenantId, fresh, successor);
        await em.flush();
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'signing_key.rotated',
          target: result.activeKid,
          outcome: 'success',
          detail: { nextKid: result.nextKid },
        });
        return result;
      });
      deps.keys.forget(c.tenantId);
      deps.providers.forget(c.tenantSlug);
      return rotated;
    },
  };
}
export type KeyRotation = ReturnType<typeof createKeyRotation>;
