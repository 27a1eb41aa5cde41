import type { Database, EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import { appendEvent } from '@tansu/platform/events/outbox';
import { findPlan } from './plans.ts';
import { TenantEntity, type Tenant } from './entities.ts';

export const PLATFORM_TENANT_SLUG = 'platform';
const RESERVED_SLUGS = new Set([PLATFORM_TENANT_SLUG, 'admin', 'api', 'www', 'identity', 'graphql', 'health', 'metrics', 'storage', 'functions']);
const SLUG_PATTERN = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

export function validateTenantInput(input: { slug: string; name: string }, options: { allowReserved?: boolean } = {}): void {
  if (!SLUG_PATTERN.test(input.slug)) {
    throw errors.badInput('slug', 'must be 3-40 characters of lowercase letters, digits and dashes, starting with a letter');
  }
  if (!options.allowReserved && RESERVED_SLUGS.has(input.slug)) throw errors.badInput('slug', `"${input.slug}" is reserved`);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw errors.badInput('name', 'must be 1-200 characters');
}

export async function findTenantBySlug(em: EntityManager, slug: string): Promise<Tenant | null> {
  return em.findOne(TenantEntity, { slug });
}

/**
 * A tenant in one transaction: its row and the `tenant.created` event; then `inTransaction`
 * (its first owner's invitation), whose failure undoes the tenant too. Any failure leaves
 * nothing behind. Each domain sets up its own per-tenant state when it first needs it (identity
 * makes the signing keys on first use).
 */
export async function provisionTenant(
  db: Database,
  input: { slug: string; name: string; plan?: string },
  options: { allowReserved?: boolean; inTransaction?: (em: EntityManager, tenant: Tenant) => Promise<void> } = {},
): Promise<Tenant> {
  validateTenantInput(input, options);
  const id = crypto.randomUUID();
  return db.withTenant(id, async (em) => {
    if ((await findTenantBySlug(em, input.slug)) !== null) throw errors.conflict(`Tenant "${input.slug}" already exists`);
    const plan = input.plan ?? 'free';
    if ((await findPlan(em, plan)) === null) throw errors.badInput('plan', `"${plan.slice(0, 40)}" is not a plan`);
    const tenant = em.create(TenantEntity, { id, slug: input.slug, name: input.name.trim(), settings: {}, plan });
    await em.flush();
    appendEvent(em, { tenantId: id, topic: 'tenant.created', payload: { tenantId: id, slug: input.slug, name: tenant.name } });
    if (options.inTransaction !== undefined) {
      await em.flush();
      await options.inTransaction(em, tenant);
    }
    return tenant;
  });
}
