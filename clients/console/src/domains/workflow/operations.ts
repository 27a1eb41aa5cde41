import { graphql } from '@tansu/client';

// The workflow screens' operations: definitions, runs, their live updates and dead letters.

export const RUNS = graphql(`
  query ConsoleRuns {
    runs(first: 50) {
      live
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
        steps
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

export const WORKFLOWS = graphql(`
  query ConsoleWorkflows {
    workflows(first: 100) {
      id
      name
      version
      steps
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
      live
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
