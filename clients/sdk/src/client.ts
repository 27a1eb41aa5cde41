import type { TadaDocumentNode } from 'gql.tada';
import { CONFIRM_TOTP, ENROLL_TOTP, FINISH_PASSKEY_SIGN_IN, SIGN_IN, SIGN_UP, START_PASSKEY_SIGN_IN, STEP_UP, VERIFY_MFA } from './auth-operations.ts';
import { TansuError } from './errors.ts';
import { finishRedirectSignIn, startRedirectSignIn, type FlowStorage } from './oidc.ts';
import { createSessionKeeper, sessionOf } from './session-keeper.ts';
import { memoryStore, type Session, type SessionStore } from './session-store.ts';
import { createSubscriber, type SubscribeOptions, type SubscriptionHandlers } from './subscriptions.ts';
import { postGraphQL } from './transport.ts';

export interface TansuClientOptions {
  /** The platform's GraphQL endpoint, e.g. `https://api.example.com/graphql`. */
  url: string;
  /** The tenant (its slug) whose users this app signs in. */
  tenant: string;
  /** Where the session is kept: memory unless given (`webStorageStore(localStorage)` in a browser). */
  store?: SessionStore;
  fetch?: typeof fetch;
  /** A WebSocket class where the runtime has none (browsers and Node 22+ have one). */
  webSocketImpl?: unknown;
  /** Refresh this long before the access token expires; default 30 s. */
  refreshMarginSeconds?: number;
  /** The tenant's OpenID issuer, for redirect sign-in; default `{origin of url}/identity/{tenant}`. */
  issuer?: string;
  /** Send registered operations by id (`documentId`) instead of their text: for routers that run persisted documents only. */
  persistedDocuments?: boolean;
  /** The session ended (its refresh was refused): show the sign-in screen. */
  onSessionEnd?: (error: TansuError) => void;
  /** Every change of the session: signed in, refreshed, signed out. */
  onSessionChange?: (session: Session | null) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Send without the session's token (a public operation). */
  anonymous?: boolean;
}

/**
 * A client of one Tansu platform and tenant: typed operations (write them with `graphql`),
 * sign-in with a password, a second factor or a passkey, a session kept fresh on its own,
 * and subscriptions that resume after a dropped connection without losing an event.
 */
export function createTansuClient(options: TansuClientOptions) {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const store = options.store ?? memoryStore();
  const wsUrl = options.url.replace(/^http/, 'ws');
  const issuer = options.issuer ?? `${new URL(options.url).origin}/identity/${options.tenant}`;
  const marginMs = (options.refreshMarginSeconds ?? 30) * 1000;
  // Assigned below; the keeper tells open sockets about refreshed tokens.
  let subscriber: ReturnType<typeof createSubscriber> | undefined;
  let socketOpen = false;
  let renewal: ReturnType<typeof setTimeout> | undefined;
  const keeper = createSessionKeeper({
    url: options.url,
    fetch: doFetch,
    store,
    marginMs,
    onChange: (session) => {
      if (session !== null) subscriber?.renewToken(session.accessToken);
      void scheduleRenewal();
      options.onSessionChange?.(session);
    },
    onEnd: options.onSessionEnd,
  });
  /**
   * While a socket is open, the session is refreshed when it falls due even if nothing else asks
   * for a token (an app that only subscribes): the socket gets the new token before the router
   * would close it at the old one's expiry. Each call replaces the previous plan (`plan` counts
   * them, so a slower earlier call cannot set a second timer); a failed refresh is tried again
   * later, at most every half minute.
   */
  let plan = 0;
  let failedRenewals = 0;
  async function scheduleRenewal(): Promise<void> {
    const mine = ++plan;
    if (renewal !== undefined) clearTimeout(renewal);
    renewal = undefined;
    if (!socketOpen) return;
    const session = await keeper.current().catch(() => null);
    if (session === null || !socketOpen || mine !== plan) return;
    const backoffMs = failedRenewals === 0 ? 0 : Math.min(30_000, 1_000 * 2 ** failedRenewals);
    const dueInMs = Math.max(1_000, backoffMs, session.expiresAt - marginMs - Date.now() + 100);
    renewal = setTimeout(() => {
      renewal = undefined;
      const before = plan;
      void keeper
        .accessToken()
        .then(
          () => void (failedRenewals = 0),
          () => void (failedRenewals += 1),
        )
        // A refresh reschedules through onChange; otherwise (not due yet, or failed) plan again.
        .finally(() => (plan === before ? scheduleRenewal() : undefined));
    }, dueInMs);
    // A pending renewal alone does not keep a Node process alive.
    (renewal as { unref?: () => void }).unref?.();
  }
  subscriber = createSubscriber({
    url: wsUrl,
    accessToken: keeper.accessToken,
    webSocketImpl: options.webSocketImpl,
    onSocket: (open) => {
      socketOpen = open;
      void scheduleRenewal();
    },
  });

  async function request<Result, Variables>(
    document: TadaDocumentNode<Result, Variables>,
    variables?: Variables,
    requestOptions: RequestOptions = {},
  ): Promise<Result> {
    const token = requestOptions.anonymous ? undefined : await keeper.accessToken();
    try {
      return await postGraphQL(document, variables, {
        url: options.url,
        fetch: doFetch,
        token,
        signal: requestOptions.signal,
        persisted: options.persistedDocuments,
      });
    } catch (error) {
      // A token refused before its time (revoked, roles changed): one refresh, one retry.
      if (!(error instanceof TansuError) || error.code !== 'UNAUTHENTICATED' || token === undefined) throw error;
      const fresh = await keeper.accessToken({ force: true });
      if (fresh === undefined) throw error;
      return postGraphQL(document, variables, {
        url: options.url,
        fetch: doFetch,
        token: fresh,
        signal: requestOptions.signal,
        persisted: options.persistedDocuments,
      });
    }
  }

  async function begin<Payload extends Parameters<typeof sessionOf>[1]>(payload: Payload): Promise<Session> {
    const session = sessionOf(options.tenant, payload);
    await keeper.save(session);
    return session;
  }

  const auth = {
    /** Creates an account in the tenant and signs it in (MfaRequiredError when the tenant wants a factor set up first). */
    async signUp(input: { email: string; password: string }): Promise<Session> {
      const data = await request(SIGN_UP, { input: { tenant: options.tenant, ...input } }, { anonymous: true });
      return begin(data.signUp);
    },
    /** Signs in with a password; a second factor due throws MfaRequiredError (finish with `verifyMfa` or a passkey). */
    async signIn(input: { email: string; password: string }): Promise<Session> {
      const data = await request(SIGN_IN, { input: { tenant: options.tenant, ...input } }, { anonymous: true });
      return begin(data.signIn);
    },
    /** The second step: a code from the authenticator app (or a recovery code) and the MfaRequiredError's `mfaToken`. */
    async verifyMfa(input: { mfaToken: string; code: string }): Promise<Session> {
      const data = await request(VERIFY_MFA, { input: { tenant: options.tenant, ...input } }, { anonymous: true });
      return begin(data.verifyMfa);
    },
    /**
     * Signs in with a passkey, alone or as the second step (`mfaToken`). `authenticate` gets the
     * WebAuthn request options (JSON) and returns the authenticator's answer (JSON), e.g.
     * `(options) => startAuthentication({ optionsJSON: options })` from `@simplewebauthn/browser`.
     */
    async signInWithPasskey(input: { authenticate: (options: unknown) => Promise<unknown>; mfaToken?: string }): Promise<Session> {
      const started = await request(START_PASSKEY_SIGN_IN, { input: { tenant: options.tenant, mfaToken: input.mfaToken } }, { anonymous: true });
      const response = await input.authenticate(JSON.parse(started.startPasskeySignIn.options) as unknown);
      const data = await request(
        FINISH_PASSKEY_SIGN_IN,
        {
          input: { tenant: options.tenant, challengeId: started.startPasskeySignIn.challengeId, response: JSON.stringify(response), mfaToken: input.mfaToken },
        },
        { anonymous: true },
      );
      return begin(data.finishPasskeySignIn);
    },
    /**
     * Browser apps: the URL of the tenant's own sign-in page (authorization code with PKCE,
     * as a public client). Send the browser there; the redirect page calls `finishRedirect`.
     */
    startRedirect(input: { clientId: string; redirectUri: string; scope?: string; storage: FlowStorage }): Promise<string> {
      return startRedirectSignIn({ issuer, clientId: input.clientId, redirectUri: input.redirectUri, scope: input.scope, fetch: doFetch }, input.storage);
    },
    /** On the redirect page: exchanges the code for tokens and keeps them (refreshed at the issuer). */
    async finishRedirect(input: { clientId: string; redirectUri: string; storage: FlowStorage; callbackUrl: string }): Promise<Session> {
      const tokens = await finishRedirectSignIn(
        { issuer, clientId: input.clientId, redirectUri: input.redirectUri, fetch: doFetch },
        input.storage,
        input.callbackUrl,
      );
      if (tokens.refreshToken === undefined) throw new TansuError('BAD_USER_INPUT', 'The issuer gave no refresh token: ask for the offline_access scope');
      const session: Session = {
        tenant: options.tenant,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: Date.now() + tokens.expiresIn * 1000,
        oidc: { tokenEndpoint: tokens.tokenEndpoint, clientId: input.clientId },
      };
      await keeper.save(session);
      return session;
    },
    /**
     * Proves the second factor again (a code from the authenticator app, or a recovery code).
     * Sensitive operations refused with MFA_REQUIRED (`extensions.stepUp`) pass for ten minutes
     * after it; the session continues on the new tokens.
     */
    async stepUp(code: string): Promise<Session> {
      const data = await request(STEP_UP, { code });
      return begin(data.stepUp);
    },
    /** Starts setting up an authenticator app for the signed-in user: show `uri` as a QR code or `secret` for typing. */
    async enrollTotp(input: { name?: string } = {}) {
      return (await request(ENROLL_TOTP, { input })).enrollTotp;
    },
    /** Confirms the authenticator with its current code; the session continues as proven by it. Returns the recovery codes, shown this once. */
    async confirmTotp(input: { factorId: string; code: string }): Promise<{ recoveryCodes: string[]; session: Session }> {
      const data = await request(CONFIRM_TOTP, { input });
      return { recoveryCodes: data.confirmTotp.recoveryCodes, session: await begin(data.confirmTotp.session) };
    },
    /** Forgets the session on this client (and, with a shared store, in the app's other tabs). */
    async signOut(): Promise<void> {
      await keeper.save(null);
    },
    session: keeper.current,
    /** A usable access token, refreshed when due; undefined when signed out. */
    accessToken: () => keeper.accessToken(),
  };

  return {
    request,
    subscribe<Result, Variables>(
      document: TadaDocumentNode<Result, Variables>,
      variables: Variables,
      handlers: SubscriptionHandlers<Result>,
      subscribeOptions?: SubscribeOptions,
    ) {
      return subscriber.subscribe(document, variables, handlers, subscribeOptions);
    },
    auth,
    /** Closes the client's socket. */
    close: () => {
      socketOpen = false;
      plan += 1;
      if (renewal !== undefined) clearTimeout(renewal);
      return subscriber.dispose();
    },
  };
}

export type TansuClient = ReturnType<typeof createTansuClient>;
