import assert from 'node:assert/strict';
import { internalErrors } from './request-guard.ts';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/**
 * Posts one operation over real HTTP, as any client would. An INTERNAL answer fails the test
 * unless it passes `expectInternal`: a server fault is never an outcome to assert around.
 */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  options: { token?: string; variables?: Record<string, unknown>; headers?: Record<string, string>; expectInternal?: boolean } = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }) });
  const body = (await response.json()) as GraphQLResponse<T>['body'];
  const internal = internalErrors(body.errors);
  if (internal.length > 0 && options.expectInternal !== true) {
    assert.fail(`INTERNAL answer (HTTP ${response.status}) to ${query.replace(/\s+/g, ' ').slice(0, 120)}: ${JSON.stringify(internal)}`);
  }
  return { status: response.status, body };
}

/** The data of a response that must have succeeded. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  assert.equal(response.body.errors, undefined, `unexpected errors: ${JSON.stringify(response.body.errors)}`);
  assert.ok(response.body.data, 'response has no data');
  return response.body.data;
}

/** Asserts the response failed with exactly this code, and returns the first error. */
export function expectError(response: GraphQLResponse, code: string, status?: number) {
  const errors = response.body.errors ?? [];
  assert.ok(errors.length > 0, `expected ${code}, got ${JSON.stringify(response.body)}`);
  assert.equal(errors[0]?.extensions?.code, code, `expected ${code}, got ${JSON.stringify(response.body.errors)}`);
  if (status !== undefined) assert.equal(response.status, status);
  return errors[0]!;
}

const AUTH_FIELDS = 'accessToken refreshToken expiresIn user { id email roles tenant { id slug name } }';

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; email: string; roles: string[]; tenant: { id: string; slug: string; name: string } };
}

export async function signIn(url: string, tenant: string, email: string, password: string): Promise<AuthPayload> {
  const res = await gql<{ signIn: AuthPayload }>(url, `mutation($input: SignInInput!) { signIn(input: $input) { ${AUTH_FIELDS} } }`, {
    variables: { input: { tenant, email, password } },
  });
  return dataOf(res).signIn;
}

export async function signUp(url: string, tenant: string, email: string, password: string): Promise<AuthPayload> {
  const res = await gql<{ signUp: AuthPayload }>(url, `mutation($input: SignUpInput!) { signUp(input: $input) { ${AUTH_FIELDS} } }`, {
    variables: { input: { tenant, email, password } },
  });
  return dataOf(res).signUp;
}

export async function createTenant(url: string, token: string, slug: string, name: string): Promise<{ id: string; slug: string; name: string }> {
  const res = await gql<{ createTenant: { id: string; slug: string; name: string } }>(
    url,
    'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug name } }',
    { token, variables: { input: { slug, name } } },
  );
  return dataOf(res).createTenant;
}

/** Registers a public (PKCE) application at the token's tenant; returns its client id. */
export async function createPublicClient(url: string, token: string, name: string, redirectUri: string): Promise<string> {
  const res = await gql<{ createClient: { client: { clientId: string } } }>(
    url,
    'mutation($i: CreateClientInput!) { createClient(input: $i) { client { clientId } } }',
    {
      token,
      variables: { i: { name, type: 'PUBLIC', redirectUris: [redirectUri] } },
    },
  );
  return dataOf(res).createClient.client.clientId;
}
