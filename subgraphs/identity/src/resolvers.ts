import DataLoader from 'dataloader';
import type { SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import { requireTenantCaller } from '@tansu/platform/guards';
import { errors } from '@tansu/platform/errors';
import type { AuthService, UserView } from './auth-service.ts';
import type { KeyRotation } from './key-rotation.ts';
import type { ClientRecord, ClientService, ClientType } from './oidc/client-service.ts';

export interface IdentityContext extends SubgraphContext {
  users: DataLoader<string, UserView | null>;
}

export function createUserLoader(auth: AuthService, base: SubgraphContext): DataLoader<string, UserView | null> {
  return new DataLoader(async (ids) => {
    const caller = base.caller;
    if (caller.tenantId === undefined) return ids.map(() => null);
    return auth.usersByIds(caller.tenantId, ids);
  });
}

function stringField(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string') throw errors.badInput(field, 'is required');
  return value;
}

function clientView(client: ClientRecord) {
  return {
    clientId: client.client_id,
    name: client.name,
    type: client.kind,
    redirectUris: client.metadata.redirect_uris,
    grantTypes: client.metadata.grant_types,
    createdAt: new Date(client.created_at).toISOString(),
  };
}

/** GraphQL over the auth service; every argument is validated before it reaches the domain. */
export function createIdentityResolvers(auth: AuthService, clients: ClientService, rotation: KeyRotation) {
  return {
    Query: {
      clients: async (_: unknown, __: unknown, ctx: IdentityContext) => (await clients.list(ctx.caller)).map(clientView),
      users: async (_: unknown, args: { first: number; after?: string | null }, ctx: IdentityContext) => {
        const page = await auth.listUsers(ctx.caller, args.first, args.after);
        return { nodes: page.users, endCursor: page.endCursor, hasMore: page.hasMore };
      },
      me: (_: unknown, __: unknown, ctx: IdentityContext) => {
        const caller = requireTenantCaller(ctx.caller);
        return ctx.users.load(caller.subject);
      },
    },
    Mutation: {
      createClient: async (_: unknown, { input }: { input: { name: string; type: ClientType; redirectUris: string[]; grantTypes?: string[] | null } }, ctx: IdentityContext) => {
        const created = await clients.create(ctx.caller, input);
        return { client: clientView(created.client), clientSecret: created.clientSecret };
      },
      rotateSigningKey: (_: unknown, __: unknown, ctx: IdentityContext) => rotation.rotate(ctx.caller),
      setUserDisabled: (_: unknown, args: { userId: string; disabled: boolean }, ctx: IdentityContext) => auth.setDisabled(ctx.caller, args.userId, args.disabled),
      signUp: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        auth.signUp({ tenant: stringField(input, 'tenant'), email: stringField(input, 'email'), password: stringField(input, 'password') }, ctx.client),
      signIn: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        auth.signIn({ tenant: stringField(input, 'tenant'), email: stringField(input, 'email'), password: stringField(input, 'password') }, ctx.client),
      refreshToken: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        auth.refresh({ tenant: stringField(input, 'tenant'), refreshToken: stringField(input, 'refreshToken') }, ctx.client),
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: IdentityContext) => ctx.users.load(ref.id),
      tenant: (user: UserView) => ({ __typename: 'Tenant', id: user.tenantId }),
      createdAt: (user: UserView) => user.createdAt.toISOString(),
    },
  };
}
