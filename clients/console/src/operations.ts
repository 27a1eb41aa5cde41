import { graphql } from '@tansu/client';

// Every operation the console sends: typed by the public API, and its persisted-document manifest.

export const ME = graphql(`
  query ConsoleMe {
    me {
      id
      email
      roles
      tenant {
        slug
        name
      }
    }
  }
`);

export const RUNS = graphql(`
  query ConsoleRuns {
    runs(first: 50) {
      nodes {
        id
        status
        createdAt
        workflow {
          name
          version
        }
      }
    }
  }
`);

export const RUNS_FEED = graphql(`
  subscription ConsoleRunsFeed($after: String) {
    runs(after: $after) {
      eventId
      runId
      status
      run {
        id
        status
        createdAt
        workflow {
          name
          version
        }
      }
    }
  }
`);

export const RUN = graphql(`
  query ConsoleRun($id: ID!) {
    run(id: $id) {
      id
      status
      error
      createdAt
      workflow {
        name
        version
      }
      steps {
        id
        type
        status
        attempt
        error
        output
        attempts {
          attempt
          status
          error
        }
      }
      logs(first: 100) {
        edges {
          id
          stepId
          level
          message
          createdAt
        }
      }
    }
  }
`);

export const RUN_LOGS = graphql(`
  subscription ConsoleRunLogs($runId: ID!, $after: String) {
    runLogs(runId: $runId, after: $after) {
      eventId
      logId
      stepId
      level
      message
    }
  }
`);

export const AUDIT_LOG = graphql(`
  query ConsoleAuditLog($filter: AuditFilter, $after: String) {
    auditLog(filter: $filter, first: 50, after: $after) {
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

export const RUN_UPDATED = graphql(`
  subscription ConsoleRunUpdated($runId: ID!, $after: String) {
    runUpdated(runId: $runId, after: $after) {
      eventId
      kind
      status
      stepId
      stepStatus
      attempt
      error
    }
  }
`);

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

export const WORKFLOWS = graphql(`
  query ConsoleWorkflows {
    workflows(first: 100) {
      id
      name
      version
      createdAt
    }
  }
`);

export const CREATE_WORKFLOW = graphql(`
  mutation ConsoleCreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) {
      id
      name
      version
    }
  }
`);

export const START_WORKFLOW = graphql(`
  mutation ConsoleStartWorkflow($input: StartWorkflowInput!) {
    startWorkflow(input: $input) {
      id
    }
  }
`);

export const DEAD_LETTERS = graphql(`
  query ConsoleDeadLetters {
    deadLetterRuns(first: 50) {
      nodes {
        id
        status
        error
        createdAt
        workflow {
          name
          version
        }
      }
    }
  }
`);

export const RETRY_RUN = graphql(`
  mutation ConsoleRetryRun($id: ID!) {
    retryRun(id: $id) {
      id
      status
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

export const SET_USER_DISABLED = graphql(`
  mutation ConsoleSetUserDisabled($userId: ID!, $disabled: Boolean!) {
    setUserDisabled(userId: $userId, disabled: $disabled) {
      id
      disabled
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

export const OPERATIONS = [
  ME,
  RUNS,
  RUNS_FEED,
  RUN,
  RUN_UPDATED,
  TENANTS,
  CREATE_TENANT,
  SUSPEND_TENANT,
  RESUME_TENANT,
  USERS,
  INVITE_USER,
  SET_MEMBER_ROLE,
  WORKFLOWS,
  CREATE_WORKFLOW,
  START_WORKFLOW,
  DEAD_LETTERS,
  RETRY_RUN,
  RUN_LOGS,
  AUDIT_LOG,
  APPS,
  CREATE_APP,
  PLAN_AND_USAGE,
  SET_USER_DISABLED,
  SETTINGS,
  UPDATE_SETTINGS,
  PLANS,
  SET_TENANT_PLAN,
];
