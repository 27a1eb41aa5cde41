import { graphql } from '@tansu/client';

// The tenancy screens' operations: tenants, plans, usage, settings and the audit log.

export const TENANTS = graphql(`
  query ConsoleTenants {
    tenants(first: 200) {
      id
      slug
      name
      status
      plan {
        id
      }
    }
  }
`);

export const CREATE_TENANT = graphql(`
  mutation ConsoleCreateTenant($input: CreateTenantInput!) {
    createTenant(input: $input) {
      id
      slug
    }
  }
`);

export const SUSPEND_TENANT = graphql(`
  mutation ConsoleSuspendTenant($slug: String!) {
    suspendTenant(slug: $slug) {
      slug
      status
    }
  }
`);

export const RESUME_TENANT = graphql(`
  mutation ConsoleResumeTenant($slug: String!) {
    resumeTenant(slug: $slug) {
      slug
      status
    }
  }
`);

export const PLAN_AND_USAGE = graphql(`
  query ConsolePlanAndUsage {
    tenant {
      slug
      plan {
        id
        name
      }
      usage {
        quota
        limit
        used
        period
      }
    }
  }
`);

export const AUDIT_LOG = graphql(`
  query ConsoleAuditLog($filter: AuditFilter, $after: String) {
    auditLog(filter: $filter, first: 50, after: $after) {
      live
      entries {
        id
        at
        actorId
        action
        target
        outcome
        ip
      }
      endCursor
      hasMore
    }
  }
`);

export const SETTINGS = graphql(`
  query ConsoleSettings {
    tenant {
      slug
      settings {
        selfSignUp
        passwordMinLength
        emailVerificationRequired
        mfaRequired
        sessionLifetimeSeconds
      }
    }
  }
`);

export const UPDATE_SETTINGS = graphql(`
  mutation ConsoleUpdateSettings($input: TenantSettingsInput!) {
    updateTenantSettings(input: $input) {
      settings {
        selfSignUp
        passwordMinLength
        emailVerificationRequired
        mfaRequired
        sessionLifetimeSeconds
      }
    }
  }
`);

export const PLANS = graphql(`
  query ConsolePlans {
    plans {
      id
      name
    }
  }
`);

export const SET_TENANT_PLAN = graphql(`
  mutation ConsoleSetTenantPlan($tenant: String!, $plan: ID!) {
    setTenantPlan(tenant: $tenant, plan: $plan) {
      slug
      plan {
        id
      }
    }
  }
`);

export const DELETE_TENANT = graphql(`
  mutation ConsoleDeleteTenant($slug: String!) {
    deleteTenant(slug: $slug) {
      slug
      status
    }
  }
`);

export const AUDIT_FEED = graphql(`
  subscription ConsoleAuditFeed($filter: AuditFilter, $after: String) {
    auditLog(filter: $filter, after: $after) {
      eventId
      entry {
        id
        at
        actorId
        action
        target
        outcome
        ip
      }
    }
  }
`);
