import { FINISH_PASSKEY_SIGN_IN, REFRESH } from './auth-operations.ts';
import type { ResultOf } from './graphql.ts';
import { TansuError } from './errors.ts';
import { refreshOidcTokens } from './oidc.ts';
import type { Session, SessionStore } from './session-store.ts';
import { postGraphQL } from './transport.ts';

type AuthPayload = ResultOf<typeof FINISH_PASSKEY_SIGN_IN>['finishPasskeySignIn'];

/** Refusals after which a session cannot be saved: the user signs in again. */
const SESSION_OVER = new Set(['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_ALREADY_USED']);

export function sessionOf(tenant: string, payload: AuthPayload, now = Date.now()): Session {
  return {
    tenant,
    accessToken: payload.accessToken,
    refreshToken: payload.refreshToken,
    expiresAt: now + payload.expiresIn * 1000,
    user: { id: payload.user.id, email: payload.user.email },
  };
}

/**
 * Keeps one session fresh: hands out an access token, refreshing it shortly before it
 * expires. Concurrent callers share one refresh; a token another tab refreshed (a shared
 * store) is used as it is. A refresh the platform refuses ends the session.
 */
export function createSessionKeeper(deps: {
  url: string;
  fetch: typeof fetch;
  store: SessionStore;
  marginMs: number;
  onChange: (session: Session | null) => void;
  onEnd?: (error: TansuError) => void;
}) {
  let refreshing: Promise<Session | null> | undefined;

  async function save(session: Session | null): Promise<void> {
    if (session === null) await deps.store.clear();
    else await deps.store.save(session);
    deps.onChange(session);
  }

  async function refresh(stale: Session): Promise<Session | null> {
    try {
      let fresh: Session;
      if (stale.oidc === undefined) {
        const data = await postGraphQL(REFRESH, { input: { tenant: stale.tenant, refreshToken: stale.refreshToken } }, { url: deps.url, fetch: deps.fetch });
        fresh = sessionOf(stale.tenant, data.refreshToken);
      } else {
        const tokens = await refreshOidcTokens(stale.oidc.tokenEndpoint, stale.oidc.clientId, stale.refreshToken, deps.fetch);
        fresh = {
          ...stale,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken ?? stale.refreshToken,
          expiresAt: Date.now() + tokens.expiresIn * 1000,
        };
      }
      await save(fresh);
      return fresh;
    } catch (error) {
      if (error instanceof TansuError && SESSION_OVER.has(error.code)) {
        // Another tab may have rotated the token first: its session is in the shared store.
        const current = await deps.store.load();
        if (current !== null && current.refreshToken !== stale.refreshToken) return current;
        await save(null);
        deps.onEnd?.(error);
        return null;
      }
      throw error;
    }
  }

  return {
    save,
    async current(): Promise<Session | null> {
      return deps.store.load();
    },
    /** A usable access token, refreshed first when it is about to expire; undefined when signed out. */
    async accessToken(options: { force?: boolean } = {}): Promise<string | undefined> {
      const session = await deps.store.load();
      if (session === null) return undefined;
      if (!options.force && session.expiresAt - deps.marginMs > Date.now()) return session.accessToken;
      refreshing ??= refresh(session).finally(() => (refreshing = undefined));
      return (await refreshing)?.accessToken;
    },
  };
}

export type SessionKeeper = ReturnType<typeof createSessionKeeper>;
