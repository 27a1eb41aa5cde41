/** A signed-in session: the tokens, when the access token expires, and the tenant that issued them. */
export interface Session {
  tenant: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token stops working. */
  expiresAt: number;
  user?: { id: string; email: string };
  /** Set when the tokens came from the tenant's OpenID issuer: they are refreshed there. */
  oidc?: { tokenEndpoint: string; clientId: string };
}

/** Where a client keeps its session: memory by default, the browser's storage, or an app's own. */
export interface SessionStore {
  load(): Session | null | Promise<Session | null>;
  save(session: Session): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** Lives as long as the client (servers, scripts, tests). */
export function memoryStore(initial: Session | null = null): SessionStore {
  let session = initial;
  return {
    load: () => session,
    save: (next) => void (session = next),
    clear: () => void (session = null),
  };
}

/** The browser's `localStorage` (or `sessionStorage`) under one key, shared by the app's tabs. */
export function webStorageStore(storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>, key = 'tansu.session'): SessionStore {
  return {
    load() {
      const raw = storage.getItem(key);
      if (raw === null) return null;
      try {
        return JSON.parse(raw) as Session;
      } catch {
        return null;
      }
    },
    save: (session) => storage.setItem(key, JSON.stringify(session)),
    clear: () => storage.removeItem(key),
  };
}
