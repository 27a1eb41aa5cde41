import DataLoader from 'dataloader';
import type { CallerContext } from '@tansu/platform/context-token';
import type { Database, EntityManager } from '@tansu/platform/db/database';
import { errors } from '@tansu/platform/errors';
import { isUuid } from '@tansu/platform/uuid';
import { recordAudit, type RequestOrigin } from '@tansu/tenant-core/audit-log';
import { authorize, requireTenantCaller, type TenantCaller } from '@tansu/tenant-core/guards';
import { rolesOf } from '@tansu/tenant-core/memberships';
import { ACCOUNT_DISABLED, endSessions } from '../auth-service.ts';
import { UserEntity } from '../entities.ts';
import { endOneSession, findLiveSession, liveSessionsOf, parseSessionId, type SessionView } from './session-store.ts';

/**
 * Seeing and ending users' sessions: a user their own, owners and admins any member's of their
 * tenant (only owners an owner's). A session of another tenant is never found.
 */
export function createUserSessions(deps: {
  db: Database;
  /** Voids a user's access tokens at the routers; without it they live out their lifetime. */
  revokeSessions?: (tenantId: string, userId: string) => Promise<void>;
}) {
  const { db } = deps;

  function maySee(caller: CallerContext, userId: string): TenantCaller {
    if (userId === requireTenantCaller(caller).subject) return authorize(caller, { role: 'VIEWER', scope: 'tansu:read', action: 'see your sessions' });
    return authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: "see another user's sessions" });
  }

  function mayEnd(caller: CallerContext, userId: string): TenantCaller {
    if (userId === requireTenantCaller(caller).subject) return authorize(caller, { role: 'VIEWER', scope: 'tansu:write', action: 'end your sessions' });
    return authorize(caller, { role: 'ADMIN', scope: 'tansu:admin', action: "end another user's sessions" });
  }

  /** Acting on someone else: the caller's token may predate their own disabling, and only owners touch owners. */
  async function checkActingOn(em: EntityManager, c: TenantCaller, userId: string): Promise<void> {
    if (userId === c.subject) return;
    const self = await em.findOne(UserEntity, { id: c.subject });
    if (self === null || self.disabledAt !== null) throw errors.forbidden(ACCOUNT_DISABLED);
    if ((await rolesOf(em, c.tenantId, userId)).includes('OWNER') && !c.roles.includes('OWNER')) {
      throw errors.forbidden("Only owners may end an owner's sessions");
    }
  }

  return {
    /** Throws unless the caller may list this user's sessions (the user is of the caller's tenant). */
    checkSee: (caller: CallerContext, userId: string): void => void maySee(caller, userId),

    /** Live sessions per user id, one query pair per request however many users are asked for. */
    loader(caller: CallerContext): DataLoader<string, SessionView[]> {
      return new DataLoader(async (userIds) => {
        const tenantId = caller.tenantId;
        if (tenantId === undefined) return userIds.map(() => []);
        return db.withTenant(tenantId, (em) => liveSessionsOf(em, userIds));
      });
    },

    /** Ends one session: it cannot be renewed; the access tokens it issued live out their few minutes. */
    async end(caller: CallerContext, id: string, origin?: RequestOrigin): Promise<boolean> {
      const c = requireTenantCaller(caller);
      const ref = parseSessionId(id);
      if (ref === null) throw errors.badInput('id', 'is not a session id');
      return db.withTenant(c.tenantId, async (em) => {
        const session = await findLiveSession(em, ref);
        if (session === null) throw errors.notFound('Session');
        mayEnd(c, session.userId);
        await checkActingOn(em, c, session.userId);
        await endOneSession(em, ref);
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'session.ended',
          target: session.id,
          outcome: 'success',
          origin,
          detail: { userId: session.userId, kind: session.kind, clientId: session.clientId },
        });
        return true;
      });
    },

    /** Ends every session of a user and has the routers refuse the access tokens already issued; returns how many were live. */
    async endAll(caller: CallerContext, userId: string, origin?: RequestOrigin): Promise<number> {
      requireTenantCaller(caller);
      if (!isUuid(userId)) throw errors.badInput('userId', 'is not a user id');
      const target = userId.toLowerCase();
      const c = mayEnd(caller, target);
      const ended = await db.withTenant(c.tenantId, async (em) => {
        const user = await em.findOne(UserEntity, { id: target });
        if (user === null) throw errors.notFound('User');
        await checkActingOn(em, c, target);
        const [live = []] = await liveSessionsOf(em, [target]);
        await endSessions(em, target);
        await recordAudit(em, {
          tenantId: c.tenantId,
          actorId: c.subject,
          action: 'user.sessions_ended',
          target,
          outcome: 'success',
          origin,
          detail: { sessions: live.length },
        });
        return live.length;
      });
      await deps.revokeSessions?.(c.tenantId, target);
      return ended;
    },
  };
}
export type UserSessions = ReturnType<typeof createUserSessions>;
