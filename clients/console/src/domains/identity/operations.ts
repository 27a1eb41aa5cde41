import { graphql } from '@tansu/client';

// The identity screens' operations: users, apps, sign-in providers, signing keys and sessions.

export const USERS = graphql(`
  query ConsoleUsers {
    users(first: 200) {
      nodes {
        id
        email
        roles
        disabled
      }
    }
  }
`);

export const INVITE_USER = graphql(`
  mutation ConsoleInviteUser($input: InviteUserInput!) {
    inviteUser(input: $input) {
      id
      email
      role
    }
  }
`);

export const SET_MEMBER_ROLE = graphql(`
  mutation ConsoleSetMemberRole($input: SetMemberRoleInput!) {
    setMemberRole(input: $input) {
      role
    }
  }
`);

export const SET_USER_DISABLED = graphql(`
  mutation ConsoleSetUserDisabled($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      disabled
    }
  }
`);

export const APPS = graphql(`
  query ConsoleApps {
    clients {
      clientId
      name
      type
      redirectUris
      createdAt
    }
  }
`);

export const CREATE_APP = graphql(`
  mutation ConsoleCreateApp($input: CreateClientInput!) {
    createClient(input: $input) {
      client {
        clientId
        name
      }
      clientSecret
    }
  }
`);

export const MFA_FACTORS = graphql(`
  query ConsoleMfaFactors {
    mfaFactors {
      id
      kind
      name
      createdAt
      lastUsedAt
    }
  }
`);

export const REMOVE_MFA_FACTOR = graphql(`
  mutation ConsoleRemoveMfaFactor($id: ID!) {
    removeMfaFactor(id: $id)
  }
`);

export const IDENTITY_PROVIDERS = graphql(`
  query ConsoleIdentityProviders {
    identityProviders {
      slug
      name
      issuer
      clientId
      scopes
      redirectUri
      createdAt
    }
  }
`);

export const ADD_IDENTITY_PROVIDER = graphql(`
  mutation ConsoleAddIdentityProvider($input: AddIdentityProviderInput!) {
    addIdentityProvider(input: $input) {
      slug
      redirectUri
    }
  }
`);

export const REMOVE_IDENTITY_PROVIDER = graphql(`
  mutation ConsoleRemoveIdentityProvider($slug: String!) {
    removeIdentityProvider(slug: $slug)
  }
`);

export const SIGNING_KEYS = graphql(`
  query ConsoleSigningKeys {
    signingKeys {
      kid
      algorithm
      status
      createdAt
      retiredAt
      expiresAt
    }
  }
`);

export const ROTATE_SIGNING_KEY = graphql(`
  mutation ConsoleRotateSigningKey {
    rotateSigningKey {
      activeKid
      nextKid
    }
  }
`);

export const MY_SESSIONS = graphql(`
  query ConsoleMySessions {
    me {
      id
      sessions {
        id
        kind
        clientId
        startedAt
        lastRefreshedAt
        expiresAt
        authMethods
      }
    }
  }
`);

export const END_SESSION = graphql(`
  mutation ConsoleEndSession($id: ID!) {
    endSession(id: $id)
  }
`);

export const END_USER_SESSIONS = graphql(`
  mutation ConsoleEndUserSessions($userId: ID!) {
    endUserSessions(userId: $userId)
  }
`);

export const USER_SESSIONS = graphql(`
  query ConsoleUserSessions($id: ID!) {
    user(id: $id) {
      id
      email
      sessions {
        id
        kind
        clientId
        startedAt
        lastRefreshedAt
        expiresAt
        authMethods
      }
    }
  }
`);
