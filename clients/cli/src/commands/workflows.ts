import { readFile } from 'node:fs/promises';
import { TansuError, graphql, type TansuClient } from '@tansu/client';
import { requireArg, stringOption, type CommandContext } from '../context.ts';
import { table } from '../output.ts';
import { UsageError } from '../prompt.ts';

const CREATE = graphql(`
  mutation CliCreateWorkflow($input: CreateWorkflowInput!) {
    createWorkflow(input: $input) {
      id
      name
      version
    }
  }
`);

const START = graphql(`
  mutation CliStartWorkflow($input: StartWorkflowInput!) {
    startWorkflow(input: $input) {
      id
      status
      workflow {
        name
        version
      }
    }
  }
`);

const RUNS = graphql(`
  query CliRuns($first: Int) {
    runs(first: $first) {
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

const RUN = graphql(`
  query CliRun($id: ID!) {
    run(id: $id) {
      id
      status
      error
      output
      steps {
        id
        status
      }
    }
  }
`);

const RUN_UPDATED = graphql(`
  subscription CliRunUpdated($runId: ID!, $after: String) {
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

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

/** Reads a definition file: JSON `{ "name": …, "steps": [ … ] }`. */
async function readDefinition(path: string): Promise<{ name: string; steps: unknown }> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${path}`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not JSON`);
  }
  const definition = value as { name?: unknown; steps?: unknown };
  if (typeof definition.name !== 'string' || !Array.isArray(definition.steps)) throw new UsageError(`${path} must hold { "name": "…", "steps": [ … ] }`);
  return { name: definition.name, steps: definition.steps };
}

/**
 * Follows a run live until it ends: each change as a line (or NDJSON), a progress bar of its
 * steps on a terminal. Resolves with the final status.
 */
async function watch(ctx: CommandContext, client: TansuClient, runId: string): Promise<string> {
  const run = (await client.request(RUN, { id: runId })).run;
  if (run === null) throw new TansuError('NOT_FOUND', `Run ${runId} not found`);
  const steps = new Map(run.steps.map((s) => [s.id, s.status as string]));
  const done = () => [...steps.values()].filter((s) => FINAL.has(s)).length;
  if (FINAL.has(run.status)) {
    ctx.out.event({ kind: 'RUN', runId, status: run.status }, () => `run ${runId} ${run.status}`);
    return run.status;
  }
  return new Promise<string>((resolve, reject) => {
    const stop = client.subscribe(
      RUN_UPDATED,
      // From the first event: nothing that happened before the watch began is missed.
      { runId, after: '0' },
      {
        next: ({ runUpdated: event }) => {
          if (event.kind === 'STEP' && event.stepId !== null && event.stepStatus !== null) steps.set(event.stepId, event.stepStatus);
          ctx.out.event(event, () =>
            event.kind === 'STEP'
              ? `step ${event.stepId} ${event.stepStatus}${event.attempt !== null && event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}${event.error === null ? '' : `: ${event.error}`}`
              : `run ${runId} ${event.status}${event.error === null ? '' : `: ${event.error}`}`,
          );
          ctx.out.progress(done(), steps.size, 'steps finished');
          if (event.kind === 'RUN' && event.status !== null && FINAL.has(event.status)) {
            stop();
            resolve(event.status);
          }
        },
        error: reject,
        complete: () => reject(new TansuError('INTERNAL', 'The run feed ended before the run did')),
      },
    );
  });
}

/** `tansu workflows apply FILE | start NAME [--input JSON] [--watch] | watch RUN_ID | runs`. */
export async function workflows(ctx: CommandContext): Promise<void> {
  const client = await ctx.client();
  try {
    switch (ctx.args[0] ?? 'runs') {
      case 'apply': {
        const definition = await readDefinition(requireArg(ctx, 1, 'the definition file'));
        const { createWorkflow } = await client.request(CREATE, { input: definition });
        ctx.out.result(createWorkflow, () => `${createWorkflow.name} version ${createWorkflow.version}`);
        return;
      }
      case 'start': {
        const inputText = stringOption(ctx, 'input');
        let input: unknown;
        try {
          input = inputText === undefined ? undefined : JSON.parse(inputText);
        } catch {
          throw new UsageError('--input must be JSON');
        }
        const { startWorkflow: run } = await client.request(START, { input: { workflow: requireArg(ctx, 1, 'the workflow name'), input } });
        if (ctx.options.watch !== true) {
          ctx.out.result(run, () => `Started run ${run.id} of ${run.workflow.name} v${run.workflow.version}`);
          return;
        }
        ctx.out.info(`Started run ${run.id} of ${run.workflow.name} v${run.workflow.version}`);
        if ((await watch(ctx, client, run.id)) !== 'SUCCEEDED') process.exitCode = 1;
        return;
      }
      case 'watch':
        if ((await watch(ctx, client, requireArg(ctx, 1, 'the run id'))) !== 'SUCCEEDED') process.exitCode = 1;
        return;
      case 'runs': {
        const { runs } = await client.request(RUNS, { first: 20 });
        ctx.out.result(runs.nodes, () =>
          table(
            ['RUN', 'WORKFLOW', 'STATUS', 'CREATED'],
            runs.nodes.map((r) => [r.id, `${r.workflow.name} v${r.workflow.version}`, r.status, r.createdAt]),
          ),
        );
        return;
      }
      default:
        throw new UsageError(`Unknown workflows command ${ctx.args[0]}: apply, start, watch or runs`);
    }
  } finally {
    client.close();
  }
}
