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
      }
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

export const OPERATIONS = [ME, RUNS, RUNS_FEED, RUN, RUN_UPDATED];
