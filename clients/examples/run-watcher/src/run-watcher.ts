import { createTansuClient, graphql, MfaRequiredError, type ResultOf } from '@tansu/client';

// Every operation this app sends, written once: typed by the platform's schema, and the
// contents of its persisted-document manifest.
export const RUNS_FEED = graphql(`
  subscription RunWatcherFeed($after: String) {
    runs(after: $after) {
      eventId
      runId
      status
      run {
        workflow {
          name
        }
      }
    }
  }
`);

export const RECENT_RUNS = graphql(`
  query RunWatcherRecent {
    runs(first: 10) {
      nodes {
        id
        status
        workflow {
          name
        }
      }
    }
  }
`);

export const OPERATIONS = [RUNS_FEED, RECENT_RUNS];

export type RunChange = ResultOf<typeof RUNS_FEED>['runs'];

/**
 * Signs in to a tenant and reports its runs: the ten latest, then every status change as it
 * happens, across dropped connections. Returns a function that stops watching.
 */
export async function watchRuns(options: {
  url: string;
  tenant: string;
  email: string;
  password: string;
  onLine: (line: string) => void;
  onError?: (error: Error) => void;
}): Promise<() => void> {
  const client = createTansuClient({ url: options.url, tenant: options.tenant });
  try {
    await client.auth.signIn({ email: options.email, password: options.password });
  } catch (error) {
    client.close();
    if (error instanceof MfaRequiredError) throw new Error('This account signs in with a second factor; this example does not ask for codes');
    throw error;
  }
  const recent = await client.request(RECENT_RUNS);
  for (const node of recent.runs.nodes) options.onLine(`${node.id} ${node.workflow.name} ${node.status}`);
  const stop = client.subscribe(
    RUNS_FEED,
    {},
    {
      next: ({ runs }) => options.onLine(`${runs.runId} ${runs.run?.workflow.name ?? '?'} ${runs.status ?? ''}`.trimEnd()),
      error: (error) => options.onError?.(error),
    },
  );
  return () => {
    stop();
    client.close();
  };
}
