import { ADMIN } from './test-stack.ts';
import { createTenant, dataOf, gql, signIn, signUp, type AuthPayload } from './graphql-client.ts';

export interface TwoTenants {
  admin: AuthPayload;
  acme: { id: string; slug: string; name: string };
  globex: { id: string; slug: string; name: string };
  /** A user of acme, and one of globex. */
  alice: AuthPayload;
  bob: AuthPayload;
}

/** The platform admin creates acme and globex through the router; a user signs up in each. */
export async function seedTwoTenants(url: string): Promise<TwoTenants> {
  const admin = await signIn(url, 'platform', ADMIN.email, ADMIN.password);
  const acme = await createTenant(url, admin.accessToken, 'acme', 'Acme Corp');
  const globex = await createTenant(url, admin.accessToken, 'globex', 'Globex');
  const alice = await signUp(url, 'acme', 'alice@acme.test', 'alice-password');
  const bob = await signUp(url, 'globex', 'bob@globex.test', 'bob-password');
  return { admin, acme, globex, alice, bob };
}

/** The platform admin gives a member of a tenant a role; it takes effect at the member's next sign-in. */
export async function setRole(
  url: string,
  adminToken: string,
  tenant: string,
  userId: string,
  role: 'OWNER' | 'ADMIN' | 'DEVELOPER' | 'VIEWER',
): Promise<void> {
  dataOf(
    await gql(url, 'mutation($i: SetMemberRoleInput!) { setMemberRole(input: $i) { role } }', {
      token: adminToken,
      variables: { i: { tenant, userId, role } },
    }),
  );
}
