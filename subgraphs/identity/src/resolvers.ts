import DataLoader from 'dataloader';
import type { SubgraphContext } from '@tansu/platform/graphql/subgraph-server';
import { authorize, requireTenantCaller } from '@tansu/tenant-core/guards';
import { errors } from '@tansu/platform/errors';
import { isUuid } from '@tansu/platform/uuid';
import type { Role } from '@tansu/tenant-core/entities';
import type { AuthService, UserView } from './auth-service.ts';
import type { AccountFlows, InvitationView } from './email/account-flows.ts';
import type { KeyRotation } from './key-rotation.ts';
import type { FactorView, MfaService } from './mfa/mfa-service.ts';
import type { IdentityProviders } from './sign-in-providers/provider-settings.ts';
import type { Passkeys } from './mfa/passkeys.ts';
import type { ClientRecord, ClientService, ClientType } from './oidc/client-service.ts';
import type { SessionView } from './sessions/session-store.ts';
import type { UserSessions } from './sessions/user-sessions.ts';
import type { SigningKeyList } from './signing-key-list.ts';

export interface IdentityContext extends SubgraphContext {
  users: DataLoader<string, UserView | null>;
  sessions: DataLoader<string, SessionView[]>;
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

function factorView(factor: FactorView) {
  return { ...factor, kind: factor.kind.toUpperCase(), createdAt: factor.createdAt.toISOString(), lastUsedAt: factor.lastUsedAt?.toISOString() ?? null };
}

function sessionView(session: SessionView) {
  return {
    id: session.id,
    kind: session.kind,
    clientId: session.clientId,
    startedAt: session.startedAt.toISOString(),
    lastRefreshedAt: session.lastRefreshedAt?.toISOString() ?? null,
    expiresAt: session.expiresAt.toISOString(),
    authMethods: session.authMethods,
    authenticatedAt: session.authenticatedAt?.toISOString() ?? null,
  };
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
export function createIdentityResolvers(
  auth: AuthService,
  clients: ClientService,
  rotation: KeyRotation,
  flows: AccountFlows,
  mfa: MfaService,
  identityProviders: IdentityProviders,
  passkeys: Passkeys,
  signingKeys: SigningKeyList,
  sessions: UserSessions,
) {
  return {
    Query: {
      clients: async (_: unknown, __: unknown, ctx: IdentityContext) => (await clients.list(ctx.caller)).map(clientView),
      users: async (_: unknown, args: { first: number; after?: string | null }, ctx: IdentityContext) => {
        const page = await auth.listUsers(ctx.caller, args.first, args.after);
        return { nodes: page.users, endCursor: page.endCursor, hasMore: page.hasMore };
      },
      user: (_: unknown, args: { id: string }, ctx: IdentityContext) => {
        authorize(ctx.caller, { role: 'ADMIN', scope: 'tansu:admin', action: "see the tenant's users" });
        if (!isUuid(args.id)) throw errors.badInput('id', 'is not a user id');
        return ctx.users.load(args.id.toLowerCase());
      },
      invitations: (_: unknown, __: unknown, ctx: IdentityContext) => flows.invitations(ctx.caller),
      identityProviders: async (_: unknown, __: unknown, ctx: IdentityContext) =>
        (await identityProviders.list(ctx.caller)).map((p) => ({ ...p, createdAt: p.createdAt.toISOString() })),
      mfaFactors: async (_: unknown, __: unknown, ctx: IdentityContext) => (await mfa.factors(ctx.caller)).map(factorView),
      signingKeys: (_: unknown, __: unknown, ctx: IdentityContext) => signingKeys.list(ctx.caller),
      me: (_: unknown, __: unknown, ctx: IdentityContext) => {
        const caller = requireTenantCaller(ctx.caller);
        return ctx.users.load(caller.subject);
      },
    },
    Mutation: {
      createClient: async (
        _: unknown,
        { input }: { input: { name: string; type: ClientType; redirectUris: string[]; grantTypes?: string[] | null } },
        ctx: IdentityContext,
      ) => {
        const created = await clients.create(ctx.caller, input);
        return { client: clientView(created.client), clientSecret: created.clientSecret };
      },
      rotateSigningKey: (_: unknown, __: unknown, ctx: IdentityContext) => rotation.rotate(ctx.caller),
      setUserDisabled: (_: unknown, args: { userId: string; disabled: boolean }, ctx: IdentityContext) =>
        auth.setDisabled(ctx.caller, args.userId, args.disabled),
      signUp: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        flows.signUp({ tenant: stringField(input, 'tenant'), email: stringField(input, 'email'), password: stringField(input, 'password') }, ctx.client),
      signIn: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        auth.signIn({ tenant: stringField(input, 'tenant'), email: stringField(input, 'email'), password: stringField(input, 'password') }, ctx.client),
      refreshToken: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        auth.refresh({ tenant: stringField(input, 'tenant'), refreshToken: stringField(input, 'refreshToken') }, ctx.client),
      sendVerificationEmail: (_: unknown, { input }: { input?: { tenant: string; email: string } | null }, ctx: IdentityContext) =>
        flows.sendVerificationEmail(ctx.caller, input, ctx.client),
      verifyEmail: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        flows.verifyEmail({ tenant: stringField(input, 'tenant'), token: stringField(input, 'token') }, ctx.client),
      requestPasswordReset: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        flows.requestPasswordReset({ tenant: stringField(input, 'tenant'), email: stringField(input, 'email') }, ctx.client),
      resetPassword: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        flows.resetPassword({ tenant: stringField(input, 'tenant'), token: stringField(input, 'token'), password: stringField(input, 'password') }, ctx.client),
      inviteUser: (_: unknown, { input }: { input: { email: string; role: Role } }, ctx: IdentityContext) => flows.invite(ctx.caller, input, ctx.client),
      revokeInvitation: (_: unknown, args: { id: string }, ctx: IdentityContext) => flows.revokeInvitation(ctx.caller, args.id, ctx.client),
      acceptInvitation: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        flows.acceptInvitation(
          { tenant: stringField(input, 'tenant'), token: stringField(input, 'token'), password: stringField(input, 'password') },
          ctx.client,
        ),
      enrollTotp: (
        _: unknown,
        { input }: { input?: { tenant?: string | null; mfaToken?: string | null; name?: string | null } | null },
        ctx: IdentityContext,
      ) => mfa.enrollTotp(ctx.caller, input ?? {}),
      confirmTotp: (
        _: unknown,
        { input }: { input: { tenant?: string | null; mfaToken?: string | null; factorId: string; code: string } },
        ctx: IdentityContext,
      ) => mfa.confirmTotp(ctx.caller, input, ctx.client),
      verifyMfa: (_: unknown, { input }: { input: Record<string, unknown> }, ctx: IdentityContext) =>
        mfa.verifyMfa({ tenant: stringField(input, 'tenant'), mfaToken: stringField(input, 'mfaToken'), code: stringField(input, 'code') }, ctx.client),
      stepUp: (_: unknown, args: { code: string }, ctx: IdentityContext) => mfa.stepUp(ctx.caller, args.code, ctx.client),
      removeMfaFactor: (_: unknown, args: { id: string }, ctx: IdentityContext) => mfa.removeFactor(ctx.caller, args.id, ctx.client),
      regenerateRecoveryCodes: (_: unknown, __: unknown, ctx: IdentityContext) => mfa.regenerateRecoveryCodes(ctx.caller, ctx.client),
      addIdentityProvider: async (
        _: unknown,
        { input }: { input: { slug: string; name: string; issuer: string; clientId: string; clientSecret: string; scopes?: string | null } },
        ctx: IdentityContext,
      ) => {
        const added = await identityProviders.add(ctx.caller, input);
        return { ...added, createdAt: added.createdAt.toISOString() };
      },
      startPasskeyRegistration: (_: unknown, __: unknown, ctx: IdentityContext) => passkeys.startRegistration(ctx.caller),
      finishPasskeyRegistration: async (
        _: unknown,
        { input }: { input: { challengeId: string; response: string; name?: string | null } },
        ctx: IdentityContext,
      ) => {
        const done = await passkeys.finishRegistration(ctx.caller, input, ctx.client);
        return {
          factor: factorView({ id: done.factor.id, kind: 'webauthn', name: done.factor.name, createdAt: done.factor.createdAt, lastUsedAt: null }),
          recoveryCodes: done.recoveryCodes,
        };
      },
      startPasskeySignIn: (_: unknown, { input }: { input: { tenant: string; mfaToken?: string | null } }, ctx: IdentityContext) =>
        passkeys.startSignIn(input, ctx.client),
      finishPasskeySignIn: (
        _: unknown,
        { input }: { input: { tenant: string; challengeId: string; response: string; mfaToken?: string | null } },
        ctx: IdentityContext,
      ) => passkeys.finishSignIn(input, ctx.client),
      removeIdentityProvider: (_: unknown, args: { slug: string }, ctx: IdentityContext) => identityProviders.remove(ctx.caller, args.slug),
      revealClientSecret: (_: unknown, args: { clientId: string }, ctx: IdentityContext) => clients.revealSecret(ctx.caller, args.clientId),
      endSession: (_: unknown, args: { id: string }, ctx: IdentityContext) => sessions.end(ctx.caller, args.id, ctx.client),
      endUserSessions: (_: unknown, args: { userId: string }, ctx: IdentityContext) => sessions.endAll(ctx.caller, args.userId, ctx.client),
    },
    Invitation: {
      invitedBy: (invitation: InvitationView, _: unknown, ctx: IdentityContext) =>
        invitation.invitedBy === null ? null : ctx.users.load(invitation.invitedBy),
      expiresAt: (invitation: InvitationView) => invitation.expiresAt.toISOString(),
      createdAt: (invitation: InvitationView) => invitation.createdAt.toISOString(),
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: IdentityContext) => ctx.users.load(ref.id),
      tenant: (user: UserView) => ({ __typename: 'Tenant', id: user.tenantId }),
      createdAt: (user: UserView) => user.createdAt.toISOString(),
      sessions: async (user: UserView, _: unknown, ctx: IdentityContext) => {
        sessions.checkSee(ctx.caller, user.id);
        return (await ctx.sessions.load(user.id)).map(sessionView);
      },
    },
  };
}
