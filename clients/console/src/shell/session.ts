import { createTansuClient, webStorageStore, type TansuClient } from '@tansu/client';

// The console is a public client of every tenant's issuer; the router serves it beside them.
export const CONSOLE_CLIENT_ID = 'tansu-console';
const TENANT_KEY = 'tansu.console.tenant';

export const redirectUri = (): string => `${window.location.origin}/console/`;

let current: { tenant: string; client: TansuClient } | undefined;

/** The signed-in tenant's client (one per tab), or undefined before sign-in. */
export function consoleClient(): TansuClient | undefined {
  const tenant = localStorage.getItem(TENANT_KEY);
  if (tenant === null) return undefined;
  if (current?.tenant !== tenant) {
    current?.client.close();
    current = {
      tenant,
      client: createTansuClient({
        url: `${window.location.origin}/graphql`,
        tenant,
        store: webStorageStore(localStorage, 'tansu.console.session'),
        onSessionEnd: () => signOut(),
      }),
    };
  }
  return current.client;
}

export function currentTenant(): string | null {
  return localStorage.getItem(TENANT_KEY);
}

/** Sends the browser to the tenant's own sign-in page. */
export async function startSignIn(tenant: string): Promise<void> {
  localStorage.setItem(TENANT_KEY, tenant);
  const client = consoleClient()!;
  // The console acts for the person with everything their roles allow.
  const scope = 'openid email offline_access tansu:read tansu:write tansu:admin';
  window.location.assign(await client.auth.startRedirect({ clientId: CONSOLE_CLIENT_ID, redirectUri: redirectUri(), scope, storage: sessionStorage }));
}

/** On the way back from the issuer: the code for tokens. */
export async function finishSignIn(): Promise<void> {
  const client = consoleClient();
  if (client === undefined) throw new Error('Sign-in was not started from this console');
  await client.auth.finishRedirect({ clientId: CONSOLE_CLIENT_ID, redirectUri: redirectUri(), storage: sessionStorage, callbackUrl: window.location.href });
  window.history.replaceState(null, '', '/console/');
}

export async function signedIn(): Promise<boolean> {
  return (await consoleClient()?.auth.session()) != null;
}

export function signOut(): void {
  void current?.client.auth.signOut();
  localStorage.removeItem(TENANT_KEY);
  current?.client.close();
  current = undefined;
}
